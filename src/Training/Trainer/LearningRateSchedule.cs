namespace PdServe.Training.Trainer;

/// <summary>Linear warm-up to the peak rate, then a cosine decay to the floor at the last step.</summary>
public sealed record LearningRateSchedule(double Peak, double Floor, long WarmupSteps, long TotalSteps)
{
    public double At(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        double progress = TotalSteps <= WarmupSteps ? 1.0 : Math.Min(1.0, (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
        return Floor + 0.5 * (Peak - Floor) * (1 + Math.Cos(Math.PI * progress));
    }
}
