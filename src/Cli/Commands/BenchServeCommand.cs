using System.CommandLine;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve bench serve --url URL …</c>: the serving benchmark (the counterpart of <c>vllm bench serve</c>): streams a
/// dataset through the OpenAI completions API at each request rate and reports throughput, TTFT, TPOT, ITL, end-to-end
/// latency, goodput and KV bytes per request as a table, JSON and optionally a plot; the multiturn and shared-prefix
/// datasets also report what the server reused (per turn, and prompt tokens computed against cached).
/// </summary>
public static class BenchServeCommand
{
    public static Command Create(CliContext context)
    {
        var url = new Option<string>("--url") { Description = "Base URL of the OpenAI-compatible server", HelpName = "URL", Required = true }
            .Require(u => Uri.TryCreate(u, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https", "an http(s) URL");
        var apiKey = new Option<string>("--api-key") { Description = "Bearer API key", HelpName = "K" };
        var modelName = new Option<string>("--model-name") { Description = "Model to request (default: the first of /v1/models)", HelpName = "NAME" };
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "Model directory whose tokenizer draws the random dataset's token ids; default: ask the server's /tokenize",
            HelpName = "DIR",
        }.ExistingDirectory();
        var dataset = new Option<string>("--dataset")
        {
            Description = "random (random token ids; --input-len, --output-len, --range-ratio), multiturn (conversations; --conversations, --turns, " +
                          "--system-tokens, --user-tokens, --think-time), shared-prefix (--prefix-tokens, --suffix-tokens) or jsonl:FILE " +
                          "(one {\"prompt\": …, \"max_tokens\": N} per line)",
            HelpName = "random|multiturn|shared-prefix|jsonl:FILE",
            DefaultValueFactory = _ => BenchDataset.RandomDataset,
        }.Require(d => d.StartsWith(BenchDataset.JsonlPrefix, StringComparison.Ordinal) ? File.Exists(d[BenchDataset.JsonlPrefix.Length..]) : BenchDataset.IsKnown(d),
            "random, multiturn, shared-prefix or jsonl:FILE of an existing file");
        var shape = new ConversationShape();
        var conversations = OptionChecks.Int("--conversations", shape.Conversations, "Multiturn: conversations per rate (each arrival starts one)", "C")
            .Require(n => n >= 1, "an integer >= 1");
        var turns = OptionChecks.Int("--turns", shape.Turns, "Multiturn: turns per conversation", "N").Require(n => n >= 1, "an integer >= 1");
        var systemTokens = OptionChecks.Int("--system-tokens", shape.SystemTokens, "Multiturn: tokens of the system prompt every conversation shares", "S")
            .Require(n => n >= 0, "an integer >= 0");
        var userTokens = OptionChecks.Int("--user-tokens", shape.UserTokens, "Multiturn: mean tokens of a user message, drawn uniformly from [U/2, 3U/2]", "U")
            .Require(n => n >= 1, "an integer >= 1");
        var thinkTime = OptionChecks.Double("--think-time", shape.ThinkTimeSeconds, "Multiturn: mean seconds between a reply and the next user message (exponential; 0: none)", "SECONDS")
            .Require(t => double.IsFinite(t) && t >= 0, "a number of seconds >= 0");
        var prefix = new SharedPrefixShape();
        var prefixTokens = OptionChecks.Int("--prefix-tokens", prefix.PrefixTokens, "Shared-prefix: tokens of the prefix every request shares", "P")
            .Require(n => n >= 1, "an integer >= 1");
        var suffixTokens = OptionChecks.Int("--suffix-tokens", prefix.SuffixTokens, "Shared-prefix: tokens of each request's own suffix", "S")
            .Require(n => n >= 1, "an integer >= 1");
        var inputLength = OptionChecks.Int("--input-len", 256, "Random dataset: prompt tokens").Require(n => n >= 1, "an integer >= 1");
        var outputLength = OptionChecks.Int("--output-len", 64, "Tokens to generate (jsonl: when a line has no max_tokens)", "M").Require(n => n >= 1, "an integer >= 1");
        var rangeRatio = OptionChecks.Double("--range-ratio", 0, "Random dataset: lengths drawn uniformly from len·(1±R)", "R").Require(r => r is >= 0 and < 1, "in [0, 1)");
        var numPrompts = OptionChecks.Int("--num-prompts", 100, "Requests per rate (multiturn: --conversations × --turns instead)", "P").Require(n => n >= 1, "an integer >= 1");
        var rates = new Option<string>("--rate")
        {
            Description = "Comma-separated request rates (req/s, Poisson arrivals); inf sends every request at once",
            HelpName = "r1,r2,…|inf",
            DefaultValueFactory = _ => "inf",
        }.Require(text => ServeBenchOptions.TryParseRates(text, out _), "a comma-separated list of positive numbers or inf");
        var maxConcurrency = new Option<int?>("--max-concurrency") { Description = "Most requests in flight at once (arrivals wait for a slot)", HelpName = "C" }
            .Require(c => c is null or >= 1, "an integer >= 1");
        var seed = OptionChecks.Int("--seed", 0, "Seed of the random dataset and the arrival times", "S");
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Generate exactly max_tokens (the server's ignore_eos)" };
        var noStream = new Option<bool>("--no-stream") { Description = "Plain JSON responses: throughput and end-to-end latency only (no TTFT, TPOT, ITL)" };
        var goodput = new Option<string>("--goodput") { Description = "SLO limits for goodput, milliseconds: ttft:MS,tpot:MS,e2el:MS (any subset)", HelpName = "ttft:MS,tpot:MS" }
            .Require(text => SloLimits.TryParse(text, out _), "metric:milliseconds pairs (ttft, tpot, e2el)");
        var warmup = OptionChecks.Int("--warmup", 4, "Requests sent first and not counted", "N").Require(n => n >= 0, "an integer >= 0");
        var timeout = OptionChecks.Int("--request-timeout", 600, "Seconds before a request counts as failed", "S").Require(n => n >= 1, "an integer >= 1");
        var output = new Option<string>("--out") { Description = "Write the results (command, machine, one object per rate) as JSON", HelpName = "FILE.json", Required = true };
        var plot = new Option<string>("--plot") { Description = "Also draw throughput and latency against the rate", HelpName = "FILE.png" };

        var command = new Command("serve", "Serving benchmark through the OpenAI API: throughput, TTFT, TPOT, ITL, E2E latency, goodput and KV bytes per rate")
        {
            url, apiKey, modelName, tokenizer, dataset, conversations, turns, systemTokens, userTokens, thinkTime, prefixTokens, suffixTokens,
            inputLength, outputLength, rangeRatio, numPrompts, rates, maxConcurrency, seed, ignoreEos, noStream, goodput, warmup, timeout, output, plot,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            ServeBenchOptions.TryParseRates(parseResult.GetValue(rates)!, out var rateList);
            SloLimits? slo = null;
            if (parseResult.GetValue(goodput) is { } sloText) SloLimits.TryParse(sloText, out slo);
            bool stream = !parseResult.GetValue(noStream);
            if (slo is { NeedsStreaming: true } && !stream)
                throw new CliError("--goodput with ttft or tpot needs streaming; drop --no-stream or use e2el only");
            var options = new ServeBenchOptions
            {
                Url = new Uri(parseResult.GetRequiredValue(url)),
                ApiKey = parseResult.GetValue(apiKey),
                Model = parseResult.GetValue(modelName),
                Dataset = parseResult.GetValue(dataset)!,
                TokenizerDirectory = parseResult.GetValue(tokenizer) is { } directory ? Path.GetFullPath(directory) : null,
                InputLength = parseResult.GetValue(inputLength),
                OutputLength = parseResult.GetValue(outputLength),
                RangeRatio = parseResult.GetValue(rangeRatio),
                NumPrompts = parseResult.GetValue(numPrompts),
                Conversation = new ConversationShape
                {
                    Conversations = parseResult.GetValue(conversations),
                    Turns = parseResult.GetValue(turns),
                    SystemTokens = parseResult.GetValue(systemTokens),
                    UserTokens = parseResult.GetValue(userTokens),
                    ThinkTimeSeconds = parseResult.GetValue(thinkTime),
                },
                SharedPrefix = new SharedPrefixShape { PrefixTokens = parseResult.GetValue(prefixTokens), SuffixTokens = parseResult.GetValue(suffixTokens) },
                Rates = rateList,
                MaxConcurrency = parseResult.GetValue(maxConcurrency),
                Seed = parseResult.GetValue(seed),
                IgnoreEos = parseResult.GetValue(ignoreEos),
                Stream = stream,
                Goodput = slo,
                WarmupRequests = parseResult.GetValue(warmup),
                RequestTimeout = TimeSpan.FromSeconds(parseResult.GetValue(timeout)),
            };
            string commandLine = ServeBenchReport.CommandOf(parseResult.Tokens.Select(t => t.Value));
            var report = await ServeBenchConsole.RunAsync(options, commandLine, parseResult.GetRequiredValue(output), parseResult.GetValue(plot), context, cancellationToken);
            return report.TotalCompleted == 0 ? ExitCodes.Failure : ExitCodes.Ok;
        });
        return command;
    }
}
