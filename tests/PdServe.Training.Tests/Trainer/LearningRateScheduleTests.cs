using PdServe.Training.Trainer;

namespace PdServe.Training.Tests.Trainer;

public sealed class LearningRateScheduleTests
{
    [Fact]
    public void Warms_up_linearly_then_decays_along_a_cosine_to_the_floor()
    {
        var schedule = new LearningRateSchedule(Peak: 1e-3, Floor: 1e-4, WarmupSteps: 10, TotalSteps: 110);
        Assert.Equal(1e-4, schedule.At(0), 12);
        Assert.Equal(5e-4, schedule.At(4), 12);
        Assert.Equal(1e-3, schedule.At(10), 12);
        Assert.Equal(5.5e-4, schedule.At(60), 12); // halfway through the decay: the mean of peak and floor
        Assert.Equal(1e-4, schedule.At(110), 12);
        Assert.Equal(1e-4, schedule.At(500), 12);
    }
}
