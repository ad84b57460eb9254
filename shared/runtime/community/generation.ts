// Generation defaults and special token ids of a community captioner, from generation_config.json
// (optional) and config.json, with transformers' precedence: generation_config.json first.
import type { CaptionGenerationOptions } from "../captioner.ts";
import { ModelPackageError } from "../errors.ts";
import type { VisionEncoderDecoderConfig } from "./config.ts";
import { parseJsonFile } from "./json.ts";

const FILE = "generation_config.json";

/** transformers' GenerationConfig default max_length, which counts the decoder start token. */
const DEFAULT_MAX_LENGTH = 20;

/** GenerationConfig fields that carry over to edgecap's decoding options unchanged. */
const PASSED_FIELDS = [
  "max_new_tokens",
  "min_new_tokens",
  "do_sample",
  "num_beams",
  "num_beam_groups",
  "diversity_penalty",
  "length_penalty",
  "early_stopping",
  "temperature",
  "top_k",
  "top_p",
  "repetition_penalty",
  "no_repeat_ngram_size",
  "num_return_sequences",
] as const;

export interface CommunityGeneration {
  defaults: CaptionGenerationOptions;
  decoderStartTokenId: number;
  eosTokenIds: number[];
  padTokenId: number | null;
}

function tokenIdList(value: unknown): number[] | null {
  if (value === undefined || value === null) return null;
  const list = Array.isArray(value) ? value : [value];
  return list.every((id) => Number.isInteger(id) && id >= 0) ? (list as number[]) : null;
}

/** Reads generation_config.json (null when the package has none) together with config.json. */
export function communityGeneration(
  config: VisionEncoderDecoderConfig,
  generationBytes: Uint8Array | null,
): CommunityGeneration {
  let generation: Record<string, unknown> = {};
  if (generationBytes !== null) {
    const json = parseJsonFile(generationBytes, FILE);
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new ModelPackageError(FILE, null, "expected a JSON object");
    }
    generation = json as Record<string, unknown>;
  }

  const defaults: Record<string, unknown> = {};
  for (const field of PASSED_FIELDS) {
    const value = generation[field];
    if (value !== undefined && value !== null) defaults[field] = value;
  }
  // max_length counts the decoder start token, so it allows max_length - 1 new tokens.
  if (defaults.max_new_tokens === undefined) {
    const maxLength = generation.max_length ?? DEFAULT_MAX_LENGTH;
    if (typeof maxLength !== "number" || !Number.isInteger(maxLength) || maxLength < 2) {
      throw new ModelPackageError(
        FILE,
        "max_length",
        `must be an integer >= 2, found ${JSON.stringify(maxLength)}`,
      );
    }
    defaults.max_new_tokens = maxLength - 1;
  }
  if (defaults.min_new_tokens === undefined && typeof generation.min_length === "number") {
    defaults.min_new_tokens = Math.max(0, generation.min_length - 1);
  }

  const start =
    generation.decoder_start_token_id ??
    config.decoder_start_token_id ??
    config.decoder.decoder_start_token_id ??
    generation.bos_token_id ??
    config.decoder.bos_token_id;
  if (typeof start !== "number" || !Number.isInteger(start) || start < 0) {
    throw new ModelPackageError(
      "config.json",
      "decoder_start_token_id",
      "missing: set decoder_start_token_id (or decoder.bos_token_id) to the token that starts every caption",
    );
  }
  const eosTokenIds =
    tokenIdList(generation.eos_token_id) ??
    tokenIdList(config.eos_token_id) ??
    tokenIdList(config.decoder.eos_token_id);
  if (eosTokenIds === null) {
    throw new ModelPackageError(
      "config.json",
      "eos_token_id",
      "missing: set eos_token_id (or decoder.eos_token_id) so captions can end before max_new_tokens",
    );
  }
  const pad = generation.pad_token_id ?? config.pad_token_id ?? config.decoder.pad_token_id;
  return {
    defaults: defaults as CaptionGenerationOptions,
    decoderStartTokenId: start,
    eosTokenIds,
    padTokenId: typeof pad === "number" ? pad : null,
  };
}
