using System.Diagnostics;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Sends one rate's conversations: each arrival of the rate's Poisson process starts one conversation, whose turns go
/// one after another — turn k+1 once turn k's reply is back and its think time has passed (the think time runs from
/// the reply, so re-tokenizing the reply does not lengthen it). A failed turn ends its conversation: its later turns
/// are recorded as failed without being sent, so every rate accounts for conversations × turns requests.
/// <c>--max-concurrency</c> bounds requests in flight, not conversations.
/// </summary>
public static class ConversationSender
{
    public static async Task<RateRun> SendAsync(CompletionCall call, ReplyTokenizer replyTokenizer, IReadOnlyList<Conversation> conversations,
        double rate, int? maxConcurrency, int seed, string label, IServeBenchObserver observer, CancellationToken cancellationToken)
    {
        IReadOnlyList<TimeSpan> offsets = PoissonArrivals.Offsets(rate, conversations.Count, seed);
        using var slots = maxConcurrency is { } max ? new SemaphoreSlim(max) : null;
        var gauge = new InFlightGauge();
        long start = Stopwatch.GetTimestamp();
        double Now() => Stopwatch.GetElapsedTime(start).TotalSeconds;
        var conversing = new List<Task<List<RequestOutcome>>>(conversations.Count);
        for (int i = 0; i < conversations.Count; i++)
        {
            TimeSpan wait = offsets[i] - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken);
            var conversation = conversations[i];
            conversing.Add(Task.Run(() => ConverseAsync(call, replyTokenizer, conversation, slots, gauge, Now, label, observer, cancellationToken),
                cancellationToken));
        }
        var outcomes = await Task.WhenAll(conversing);
        return new RateRun(outcomes.SelectMany(o => o).ToList(), Now(), gauge.Peak);
    }

    private static async Task<List<RequestOutcome>> ConverseAsync(CompletionCall call, ReplyTokenizer replyTokenizer, Conversation conversation,
        SemaphoreSlim? slots, InFlightGauge gauge, Func<double> now, string label, IServeBenchObserver observer, CancellationToken cancellationToken)
    {
        var outcomes = new List<RequestOutcome>(conversation.Turns);
        var replies = new List<IReadOnlyList<int>>(conversation.Turns);
        long repliedAt = Stopwatch.GetTimestamp();
        for (int turn = 0; turn < conversation.Turns; turn++)
        {
            TimeSpan think = TimeSpan.FromSeconds(conversation.ThinkSeconds[turn]) - Stopwatch.GetElapsedTime(repliedAt);
            if (turn > 0 && think > TimeSpan.Zero) await Task.Delay(think, cancellationToken);
            BenchPrompt prompt = conversation.Prompt(turn, replies);
            if (slots is not null) await slots.WaitAsync(cancellationToken);
            RequestOutcome outcome;
            gauge.Enter();
            try
            {
                outcome = await call.SendAsync(prompt, now(), cancellationToken) with { Turn = turn + 1 };
            }
            finally
            {
                gauge.Exit();
                slots?.Release();
            }
            repliedAt = Stopwatch.GetTimestamp();
            outcomes.Add(outcome);
            observer.RequestFinished(label, outcome);
            if (!outcome.Success)
            {
                for (int later = turn + 1; later < conversation.Turns; later++)
                {
                    var unsent = RequestOutcome.Failed($"not sent: turn {turn + 1} of its conversation failed", 0, now()) with { Turn = later + 1 };
                    outcomes.Add(unsent);
                    observer.RequestFinished(label, unsent);
                }
                break;
            }
            if (turn + 1 < conversation.Turns) replies.Add(await replyTokenizer.EncodeAsync(outcome.Text, cancellationToken));
        }
        return outcomes;
    }
}
