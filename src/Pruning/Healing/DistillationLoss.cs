using static TorchSharp.torch;

namespace PdServe.Pruning.Healing;

/// <summary>KL(teacher ‖ student) of next-token distributions, averaged over the scored positions.</summary>
public static class DistillationLoss
{
    /// <param name="student">Logits [B, T, vocab], with their graph.</param>
    /// <param name="teacher">Logits [B, T, vocab] of the unpruned model, without one.</param>
    public static Tensor Of(Tensor student, Tensor teacher)
    {
        Tensor teacherLog = teacher.log_softmax(-1);
        Tensor studentLog = student.log_softmax(-1);
        return teacherLog.exp().mul(teacherLog.sub(studentLog)).sum(-1).mean();
    }
}
