// Tokenizer JSON for the tests and the golden cases of the reference tokenizers. The tests run on
// two sources: the files under models/tokenizers/, and JSON built in memory from the product
// owner's vocabulary files with scripts/build-tokenizer-json.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import {
  buildClipTokenizerJson,
  buildGpt2TokenizerJson,
} from "../../../scripts/build-tokenizer-json.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../../helpers/paths.ts";

const VOCAB_DIR = join(OWNER_DATA_DIR, "vocab");
const GOLDEN_DIR = join(OWNER_DATA_DIR, "golden", "tokenizers");

export function buildGpt2Json(): object {
  return buildGpt2TokenizerJson(
    readFileSync(join(VOCAB_DIR, "gpt2", "encoder.json"), "utf8"),
    readFileSync(join(VOCAB_DIR, "gpt2", "vocab.bpe"), "utf8"),
  );
}

export function buildClipJson(): object {
  return buildClipTokenizerJson(
    readFileSync(join(VOCAB_DIR, "clip", "bpe_simple_vocab_16e6.txt.gz")),
  );
}

export interface TokenizerSource {
  name: string;
  gpt2: () => unknown;
  clip: () => unknown;
}

function readModelsTokenizer(family: "gpt2" | "clip"): unknown {
  return JSON.parse(
    readFileSync(join(REPO_ROOT, "models", "tokenizers", family, "tokenizer.json"), "utf8"),
  );
}

export const TOKENIZER_SOURCES: TokenizerSource[] = [
  {
    name: "models/tokenizers",
    gpt2: () => readModelsTokenizer("gpt2"),
    clip: () => readModelsTokenizer("clip"),
  },
  { name: "built from vocab", gpt2: buildGpt2Json, clip: buildClipJson },
];

export interface Gpt2Case {
  id: string;
  text: string;
  pretokens: string[];
  ids: number[];
  tokens: string[];
  token_texts: string[];
  decoded: string;
}

export interface ClipCase {
  id: string;
  text: string;
  ftfy_fixed: string;
  basic_cleaned: string;
  whitespace_cleaned: string;
  cleaned: string;
  pretokens: string[];
  bpe_ids: number[];
  bpe_tokens: string[];
  decoded: string;
  tokenize_77: number[];
  truncated: boolean;
  raises_without_truncate: boolean;
}

export interface DecodeCase {
  ids: number[];
  tokens: string[];
  decoded: string;
}

export function readGolden<T>(file: string): { cases: T[]; decode_cases: DecodeCase[] } {
  return JSON.parse(readFileSync(join(GOLDEN_DIR, file), "utf8"));
}
