using PdServe.Engine.Model;

namespace PdServe.Pruning.Evaluation;

/// <summary>
/// The weights each stage runs when they differ from the unpruned model's: healed stages are the base model with
/// their kept blocks fine-tuned, one copy per stage. Full-depth models; the stage's skip set says which blocks run.
/// </summary>
public sealed record StageModels(CausalLm Prefill, CausalLm Decode);
