// Caption tokenizers for GPT-2 and CLIP, loaded from Hugging Face tokenizer.json files.
//
// tokenizers.js (@huggingface/tokenizers 0.2.0) runs the byte-level mapping and the BPE merges.
// Text cleaning and pre-tokenization come from this folder instead, because the library's
// versions differ from OpenAI's reference code. Its ByteLevel regex uses JavaScript's \s, and it
// has no ftfy cleaning. It would also match "<|endoftext|>" in GPT-2 input, which encoder.py
// encodes as plain text.
import { Tokenizer } from "@huggingface/tokenizers";

import { concatBytes, tokenToBytes } from "./byte-level.ts";
import { cleanClipText, pretokenizeClip } from "./clip-text.ts";
import { displayTexts } from "./display.ts";
import { pretokenizeGpt2 } from "./gpt2-pretokenize.ts";

/** Tokenizer family, from the shape of tokenizer.json: CLIP's BPE marks word ends with "</w>". */
export type TokenizerFamily = "gpt2" | "clip";

export interface CaptionTokenizer {
  readonly family: TokenizerFamily;
  /** Number of ids, including the special tokens. */
  readonly vocabSize: number;
  /** Ids of the special tokens by content, such as "<|endoftext|>". */
  readonly specialIds: ReadonlyMap<string, number>;
  /** Encodes text without adding start or end tokens. */
  encode(text: string): Int32Array;
  /** Decodes ids like the reference tokenizer: invalid UTF-8 becomes U+FFFD, CLIP's "</w>" a space. */
  decode(ids: ArrayLike<number>): string;
  /** Returns each token's display text; tokens that split one character show "" after the first. */
  displayTokens(ids: ArrayLike<number>): string[];
  /** Returns the vocabulary string of an id ("Ġphoto", "photo</w>"). */
  tokenString(id: number): string;
}

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

interface PreTokenizerJson {
  type?: string;
  pretokenizers?: PreTokenizerJson[];
}

interface TokenizerJson {
  added_tokens?: AddedTokenJson[];
  normalizer: unknown;
  pre_tokenizer: PreTokenizerJson | null;
  post_processor: unknown;
  decoder: unknown;
  model: {
    type?: string;
    vocab?: Record<string, number>;
    merges?: unknown[];
    end_of_word_suffix?: string | null;
  };
}

const END_OF_WORD = "</w>";
const UTF8 = new TextEncoder();
const UTF8_DECODER = new TextDecoder("utf-8", { ignoreBOM: true });

function parseTokenizerJson(json: unknown): TokenizerJson {
  const parsed: unknown = typeof json === "string" ? JSON.parse(json) : json;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TypeError(
      `tokenizer.json must be a JSON object, got ${Array.isArray(parsed) ? "an array" : typeof parsed}`,
    );
  }

  const model = (parsed as { model?: TokenizerJson["model"] }).model;
  if (model?.type !== "BPE" || typeof model.vocab !== "object" || !Array.isArray(model.merges)) {
    throw new TypeError(
      `tokenizer.json must hold a BPE model with vocab and merges, got model type ${JSON.stringify(model?.type)}; build it with scripts/build-tokenizer-json.ts`,
    );
  }
  return parsed as TokenizerJson;
}

function hasByteLevelStep(step: PreTokenizerJson | null | undefined): boolean {
  if (step?.type === "ByteLevel") {
    return true;
  }
  return (
    step?.type === "Sequence" && (step.pretokenizers ?? []).some((inner) => hasByteLevelStep(inner))
  );
}

function detectFamily(json: TokenizerJson): TokenizerFamily {
  if (json.model.end_of_word_suffix === END_OF_WORD) {
    return "clip";
  }
  if (hasByteLevelStep(json.pre_tokenizer)) {
    return "gpt2";
  }
  throw new TypeError(
    `tokenizer.json is neither GPT-2 (a ByteLevel pre-tokenizer step) nor CLIP (end_of_word_suffix "${END_OF_WORD}"): pre_tokenizer type ${JSON.stringify(json.pre_tokenizer?.type)}`,
  );
}

// The library runs only the byte-level mapping and BPE: the text arrives here already cleaned
// and split into words, and no added token may match inside it.
function createBpeTokenizer(json: TokenizerJson): Tokenizer {
  const bpeOnly = {
    ...json,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: {
      type: "ByteLevel",
      add_prefix_space: false,
      trim_offsets: false,
      use_regex: false,
    },
    post_processor: null,
    decoder: null,
  };
  return new Tokenizer(bpeOnly, {});
}

// Special tokens of each family. A tokenizer.json may list them in added_tokens or only in the
// vocabulary (GPT-2's encoder.json maps "<|endoftext|>" to 50256).
const FAMILY_SPECIAL_TOKENS: Record<TokenizerFamily, readonly string[]> = {
  gpt2: ["<|endoftext|>"],
  clip: ["<|startoftext|>", "<|endoftext|>"],
};

function buildIdTable(
  json: TokenizerJson,
  family: TokenizerFamily,
): { tokens: string[]; specialIds: Map<string, number> } {
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(json.model.vocab ?? {})) {
    tokens[id] = token;
  }

  const specialIds = new Map<string, number>();
  for (const added of json.added_tokens ?? []) {
    tokens[added.id] = added.content;
    if (added.special) {
      specialIds.set(added.content, added.id);
    }
  }

  for (const content of FAMILY_SPECIAL_TOKENS[family]) {
    const id = json.model.vocab?.[content];
    if (!specialIds.has(content) && id !== undefined) {
      specialIds.set(content, id);
    }
  }

  for (let id = 0; id < tokens.length; id++) {
    if (tokens[id] === undefined) {
      throw new TypeError(
        `tokenizer.json has no token for id ${id}; ids must run from 0 without gaps`,
      );
    }
  }
  return { tokens, specialIds };
}

class BpeCaptionTokenizer implements CaptionTokenizer {
  readonly family: TokenizerFamily;
  readonly vocabSize: number;
  readonly specialIds: ReadonlyMap<string, number>;
  private readonly bpe: Tokenizer;
  private readonly tokens: string[];

  constructor(json: TokenizerJson) {
    this.family = detectFamily(json);
    this.bpe = createBpeTokenizer(json);
    const { tokens, specialIds } = buildIdTable(json, this.family);
    this.tokens = tokens;
    this.vocabSize = tokens.length;
    this.specialIds = specialIds;
  }

  encode(text: string): Int32Array {
    const ids: number[] = [];
    if (this.family === "clip") {
      for (const word of pretokenizeClip(cleanClipText(text))) {
        // The split pattern yields special-token text as one word, and the reference's BPE cache
        // maps that word straight to the special id.
        const specialId = this.specialIds.get(word);
        if (specialId !== undefined) {
          ids.push(specialId);
        } else {
          ids.push(...this.encodeWord(word));
        }
      }
    } else {
      for (const word of pretokenizeGpt2(text)) {
        ids.push(...this.encodeWord(word));
      }
    }
    return Int32Array.from(ids);
  }

  decode(ids: ArrayLike<number>): string {
    const text = UTF8_DECODER.decode(concatBytes(Array.from(ids, (id) => this.rawTokenBytes(id))));
    return this.family === "clip" ? text.replaceAll(END_OF_WORD, " ") : text;
  }

  displayTokens(ids: ArrayLike<number>): string[] {
    return displayTexts(Array.from(ids, (id) => this.displayBytes(id)));
  }

  tokenString(id: number): string {
    const token = Number.isInteger(id) ? this.tokens[id] : undefined;
    if (token === undefined) {
      throw new RangeError(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    }
    return token;
  }

  private encodeWord(word: string): number[] {
    return this.bpe.encode(word, { add_special_tokens: false }).ids;
  }

  // Bytes that the reference decoder joins: the byte-level symbols of the token, with CLIP's
  // "</w>" kept as its four ASCII bytes.
  private rawTokenBytes(id: number): Uint8Array {
    const token = this.tokenString(id);
    return tokenToBytes(token) ?? UTF8.encode(token);
  }

  private displayBytes(id: number): Uint8Array {
    const token = this.tokenString(id);
    if (this.family === "clip" && token.endsWith(END_OF_WORD) && !this.specialIds.has(token)) {
      const body = tokenToBytes(token.slice(0, -END_OF_WORD.length)) ?? UTF8.encode(token);
      return concatBytes([body, UTF8.encode(" ")]);
    }
    return tokenToBytes(token) ?? UTF8.encode(token);
  }
}

/** Loads a GPT-2 or CLIP tokenizer from the contents of its tokenizer.json (parsed or as text). */
export function loadTokenizer(json: unknown): CaptionTokenizer {
  return new BpeCaptionTokenizer(parseTokenizerJson(json));
}
