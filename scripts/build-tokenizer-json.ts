// Builds the Hugging Face tokenizer.json files for GPT-2 and CLIP from OpenAI's vocabulary files.
//
// Usage: npx node scripts/build-tokenizer-json.ts [VOCAB_DIR] [OUT_DIR]
//   VOCAB_DIR defaults to ../shared/vocab beside the checkout (gpt2/encoder.json, gpt2/vocab.bpe,
//   clip/bpe_simple_vocab_16e6.txt.gz); OUT_DIR defaults to models/tokenizers. It writes
//   OUT_DIR/gpt2/tokenizer.json and OUT_DIR/clip/tokenizer.json.
//
// The files follow the layout that the `tokenizers` library writes for these two models, so other
// tools can load them too. shared/tokenizers/ reads them and replaces the pieces whose library
// versions differ from OpenAI's reference code (see docs/tokenizers.md).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

import { BYTE_TO_UNICODE } from "../shared/tokenizers/byte-level.ts";

const GPT2_END_OF_TEXT_ID = 50256;
const CLIP_START_OF_TEXT_ID = 49406;
const CLIP_END_OF_TEXT_ID = 49407;

// CLIP's simple_tokenizer.py reads merges from line 1 up to line 49152 - 256 - 2 of the gzip file
// (line 0 is a version header), so 48,894 merges make 256 + 256 + 48,894 + 2 = 49,408 tokens.
const CLIP_MERGE_COUNT = 49152 - 256 - 2;

// The split pattern of CLIP's simple_tokenizer.py. The reference compiles it with IGNORECASE and
// lowercases the text first; shared/tokenizers/clip-text.ts applies it with those flags.
const CLIP_SPLIT_PATTERN =
  "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

type Merge = [string, string];

function parseMergeLine(line: string, lineNumber: number, file: string): Merge {
  const parts = line.split(" ");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    throw new Error(
      `${file} line ${lineNumber}: expected two symbols separated by one space, got ${JSON.stringify(line)}`,
    );
  }
  return [parts[0] as string, parts[1] as string];
}

function bpeModel(
  vocab: Record<string, number>,
  merges: Merge[],
  options: { unkToken: string | null; endOfWordSuffix: string },
) {
  return {
    type: "BPE",
    dropout: null,
    unk_token: options.unkToken,
    continuing_subword_prefix: "",
    end_of_word_suffix: options.endOfWordSuffix,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: false,
    vocab,
    merges,
  };
}

function specialToken(id: number, content: string) {
  return {
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  };
}

export function buildGpt2TokenizerJson(encoderJson: string, vocabBpe: string): object {
  const vocab = JSON.parse(encoderJson) as Record<string, number>;
  if (vocab["<|endoftext|>"] !== GPT2_END_OF_TEXT_ID) {
    throw new Error(
      `encoder.json maps <|endoftext|> to ${vocab["<|endoftext|>"]}, expected ${GPT2_END_OF_TEXT_ID}`,
    );
  }

  // openai/gpt-2 encoder.py reads `split('\n')[1:-1]`: the first line is "#version: 0.2" and the
  // file ends with a newline.
  const lines = vocabBpe.split("\n").slice(1, -1);
  const merges = lines.map((line, index) => parseMergeLine(line, index + 2, "vocab.bpe"));

  const byteLevel = {
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: true,
  };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [specialToken(GPT2_END_OF_TEXT_ID, "<|endoftext|>")],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: bpeModel(vocab, merges, { unkToken: null, endOfWordSuffix: "" }),
  };
}

export function buildClipTokenizerJson(mergesGz: Uint8Array): object {
  const lines = new TextDecoder("utf-8", { fatal: true }).decode(gunzipSync(mergesGz)).split("\n");
  const merges = lines
    .slice(1, 1 + CLIP_MERGE_COUNT)
    .map((line, index) => parseMergeLine(line, index + 2, "bpe_simple_vocab_16e6.txt"));

  // Token order of simple_tokenizer.py: the 256 byte symbols in bytes_to_unicode() order, the
  // same symbols with "</w>", one token per merge, then the two special tokens.
  const byteSymbols = BYTE_TO_UNICODE_ORDER.map((byte) => BYTE_TO_UNICODE[byte] as string);
  const tokens = [
    ...byteSymbols,
    ...byteSymbols.map((symbol) => `${symbol}</w>`),
    ...merges.map(([a, b]) => a + b),
  ];
  tokens.push("<|startoftext|>", "<|endoftext|>");

  // A prototype-free object, so that a token such as "__proto__" becomes an ordinary key.
  const vocab: Record<string, number> = Object.create(null);
  for (const [id, token] of tokens.entries()) {
    if (Object.hasOwn(vocab, token)) {
      throw new Error(`CLIP vocabulary repeats the token ${JSON.stringify(token)} at id ${id}`);
    }
    vocab[token] = id;
  }
  if (vocab["<|endoftext|>"] !== CLIP_END_OF_TEXT_ID) {
    throw new Error(
      `CLIP vocabulary has ${tokens.length} tokens, expected ${CLIP_END_OF_TEXT_ID + 1}`,
    );
  }

  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      specialToken(CLIP_START_OF_TEXT_ID, "<|startoftext|>"),
      specialToken(CLIP_END_OF_TEXT_ID, "<|endoftext|>"),
    ],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "NFC" },
        { type: "Replace", pattern: { Regex: "\\s+" }, content: " " },
        { type: "Lowercase" },
      ],
    },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        {
          type: "Split",
          pattern: { Regex: CLIP_SPLIT_PATTERN },
          behavior: "Removed",
          invert: true,
        },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: "RobertaProcessing",
      sep: ["<|endoftext|>", CLIP_END_OF_TEXT_ID],
      cls: ["<|startoftext|>", CLIP_START_OF_TEXT_ID],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: bpeModel(vocab, merges, { unkToken: "<|endoftext|>", endOfWordSuffix: "</w>" }),
  };
}

// bytes_to_unicode() lists the printable bytes first (33-126, 161-172, 174-255), then the rest in
// ascending order; CLIP's ids follow that order, so id 0 is "!".
const BYTE_TO_UNICODE_ORDER: number[] = (() => {
  const printable: number[] = [];
  for (let byte = 0; byte < 256; byte++) {
    if (
      (byte >= 33 && byte <= 126) ||
      (byte >= 161 && byte <= 172) ||
      (byte >= 174 && byte <= 255)
    ) {
      printable.push(byte);
    }
  }
  const rest: number[] = [];
  for (let byte = 0; byte < 256; byte++) {
    if (!printable.includes(byte)) {
      rest.push(byte);
    }
  }
  return [...printable, ...rest];
})();

function main(): void {
  const vocabDir =
    process.argv[2] ?? fileURLToPath(new URL("../../shared/vocab/", import.meta.url));
  const outDir =
    process.argv[3] ?? fileURLToPath(new URL("../models/tokenizers/", import.meta.url));

  const gpt2 = buildGpt2TokenizerJson(
    readFileSync(join(vocabDir, "gpt2", "encoder.json"), "utf8"),
    readFileSync(join(vocabDir, "gpt2", "vocab.bpe"), "utf8"),
  );
  const clip = buildClipTokenizerJson(
    readFileSync(join(vocabDir, "clip", "bpe_simple_vocab_16e6.txt.gz")),
  );

  for (const [name, json] of [
    ["gpt2", gpt2],
    ["clip", clip],
  ] as const) {
    mkdirSync(join(outDir, name), { recursive: true });
    const path = join(outDir, name, "tokenizer.json");
    writeFileSync(path, `${JSON.stringify(json)}\n`);
    console.log(`wrote ${path}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main();
}
