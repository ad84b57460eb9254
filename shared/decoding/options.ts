// Generation options with the names and defaults of Hugging Face transformers' GenerationConfig,
// and their validation into a resolved configuration.
import type { DecodingStrategy } from "./types.ts";

export interface GenerationOptions {
  max_new_tokens?: number;
  min_new_tokens?: number;
  do_sample?: boolean;
  num_beams?: number;
  num_beam_groups?: number;
  diversity_penalty?: number;
  length_penalty?: number;
  early_stopping?: boolean | "never";
  temperature?: number;
  top_k?: number;
  top_p?: number;
  /** Seed of the sampling PRNG (not a GenerationConfig field; transformers seeds torch globally). */
  seed?: number;
  repetition_penalty?: number;
  no_repeat_ngram_size?: number;
  num_return_sequences?: number;
  bos_token_id: number;
  eos_token_id?: number | readonly number[] | null;
  pad_token_id?: number | null;
}

export interface ResolvedGenerationOptions {
  strategy: DecodingStrategy;
  vocabSize: number;
  maxNewTokens: number;
  minNewTokens: number;
  numBeams: number;
  numBeamGroups: number;
  diversityPenalty: number;
  lengthPenalty: number;
  earlyStopping: boolean | "never";
  temperature: number;
  topK: number;
  topP: number;
  seed: number | null;
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  numReturnSequences: number;
  bosTokenId: number;
  eosTokenIds: Int32Array;
  padTokenId: number | null;
}

/** Invalid generation options. `param` names the option so an HTTP edge can answer 400 with it. */
export class GenerationOptionsError extends Error {
  readonly param: string;
  readonly value: unknown;

  constructor(param: string, value: unknown, message: string) {
    super(message);
    this.name = "GenerationOptionsError";
    this.param = param;
    this.value = value;
  }
}

/** Defaults of transformers' GenerationConfig, except max_new_tokens (GenerationConfig has max_length 20). */
export const GENERATION_DEFAULTS = {
  max_new_tokens: 20,
  min_new_tokens: 0,
  do_sample: false,
  num_beams: 1,
  num_beam_groups: 1,
  diversity_penalty: 0,
  length_penalty: 1,
  early_stopping: false,
  temperature: 1,
  top_k: 50,
  top_p: 1,
  repetition_penalty: 1,
  no_repeat_ngram_size: 0,
  num_return_sequences: 1,
} as const;

const KNOWN_OPTIONS = new Set<string>([
  ...Object.keys(GENERATION_DEFAULTS),
  "seed",
  "bos_token_id",
  "eos_token_id",
  "pad_token_id",
]);

const SAMPLING_ONLY_OPTIONS = ["temperature", "top_k", "top_p", "seed"] as const;
const BEAM_ONLY_OPTIONS = ["length_penalty", "early_stopping"] as const;

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(", ")}]`;
  return String(value);
}

function fail(param: string, value: unknown, problem: string, fix: string): never {
  throw new GenerationOptionsError(
    param,
    value,
    `${param} ${problem}, got ${describe(value)}: ${fix}.`,
  );
}

function readInteger(
  options: Record<string, unknown>,
  param: string,
  fallback: number,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  const value = options[param] ?? fallback;
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    fail(param, value, "must be an integer", `pass a whole number ${range}`);
  }
  if (value < min || value > max) {
    fail(param, value, `must be an integer ${range}`, "pass a whole number in that range");
  }
  return value;
}

function readFinite(options: Record<string, unknown>, param: string, fallback: number): number {
  const value = options[param] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    fail(param, value, "must be a finite number", `pass a number such as the default ${fallback}`);
  }
  return value;
}

function readTokenId(options: Record<string, unknown>, param: string, vocabSize: number): number {
  return readInteger(options, param, Number.NaN, 0, vocabSize - 1);
}

function readEosTokenIds(options: Record<string, unknown>, vocabSize: number): Int32Array {
  const value = options.eos_token_id;
  if (value === undefined || value === null) return new Int32Array(0);

  const ids = Array.isArray(value) ? value : [value];
  for (const id of ids) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
      fail(
        "eos_token_id",
        value,
        `must be a token id from 0 to ${vocabSize - 1} or a list of them`,
        "pass the tokenizer's end token id",
      );
    }
  }
  return Int32Array.from(ids as number[]);
}

function rejectUnknownOptions(options: Record<string, unknown>): void {
  for (const key of Object.keys(options)) {
    if (KNOWN_OPTIONS.has(key)) continue;

    const snakeCase = key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    const fix = KNOWN_OPTIONS.has(snakeCase)
      ? `use the transformers name ${snakeCase}`
      : `use one of ${[...KNOWN_OPTIONS].sort().join(", ")}`;
    fail(key, options[key], "is not a generation option", fix);
  }
}

/** Rejects an option that has no effect in the chosen strategy when it is set to a non-default value. */
function rejectUnusedOption(
  options: Record<string, unknown>,
  param: string,
  defaultValue: unknown,
  strategyProblem: string,
  fix: string,
): void {
  const value = options[param];
  if (value === undefined || value === defaultValue) return;
  fail(param, value, `has no effect ${strategyProblem}`, fix);
}

function chooseStrategy(
  doSample: boolean,
  numBeams: number,
  numBeamGroups: number,
): DecodingStrategy {
  if (doSample) return "sampling";
  if (numBeams === 1) return "greedy";
  return numBeamGroups > 1 ? "diverse_beam_search" : "beam_search";
}

/**
 * Validates `input` against the rules in docs/decoding.md and fills in the defaults.
 * Throws GenerationOptionsError naming the first invalid option, its value and the fix.
 */
export function resolveGenerationOptions(
  input: unknown,
  vocabSize: number,
): ResolvedGenerationOptions {
  if (!Number.isInteger(vocabSize) || vocabSize < 2) {
    throw new RangeError(`vocabSize must be an integer of at least 2, got ${vocabSize}.`);
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    fail("options", input, "must be an object", "pass an object such as { bos_token_id: 0 }");
  }
  const options = input as Record<string, unknown>;
  rejectUnknownOptions(options);

  // Token ids first, because the length and penalty checks below refer to them.
  if (options.bos_token_id === undefined) {
    fail("bos_token_id", undefined, "is missing", "pass the token id that starts every sequence");
  }
  const bosTokenId = readTokenId(options, "bos_token_id", vocabSize);
  const eosTokenIds = readEosTokenIds(options, vocabSize);
  const padTokenId =
    options.pad_token_id === undefined || options.pad_token_id === null
      ? null
      : readTokenId(options, "pad_token_id", vocabSize);

  const maxNewTokens = readInteger(
    options,
    "max_new_tokens",
    GENERATION_DEFAULTS.max_new_tokens,
    1,
  );
  const minNewTokens = readInteger(
    options,
    "min_new_tokens",
    GENERATION_DEFAULTS.min_new_tokens,
    0,
  );
  if (minNewTokens > maxNewTokens) {
    fail(
      "min_new_tokens",
      minNewTokens,
      `must not exceed max_new_tokens (${maxNewTokens})`,
      "lower min_new_tokens or raise max_new_tokens",
    );
  }

  const doSample = options.do_sample ?? GENERATION_DEFAULTS.do_sample;
  if (typeof doSample !== "boolean") {
    fail("do_sample", doSample, "must be a boolean", "pass true to sample or false to search");
  }

  const numBeams = readInteger(options, "num_beams", GENERATION_DEFAULTS.num_beams, 1);
  const numBeamGroups = readInteger(
    options,
    "num_beam_groups",
    GENERATION_DEFAULTS.num_beam_groups,
    1,
  );
  if (numBeamGroups > numBeams || numBeams % numBeamGroups !== 0) {
    const divisors = [];
    for (let d = 1; d <= numBeams; d++) if (numBeams % d === 0) divisors.push(d);
    fail(
      "num_beam_groups",
      numBeamGroups,
      `must divide num_beams (${numBeams})`,
      `choose one of ${divisors.join(", ")} or change num_beams`,
    );
  }
  if (doSample && numBeams > 1) {
    const param = numBeamGroups > 1 ? "num_beam_groups" : "num_beams";
    const value = numBeamGroups > 1 ? numBeamGroups : numBeams;
    fail(
      param,
      value,
      "cannot be combined with do_sample (beam sampling is not supported)",
      "set do_sample to false for beam search, or num_beams and num_beam_groups to 1 for sampling",
    );
  }

  const diversityPenalty = readFinite(
    options,
    "diversity_penalty",
    GENERATION_DEFAULTS.diversity_penalty,
  );
  if (diversityPenalty < 0) {
    fail(
      "diversity_penalty",
      diversityPenalty,
      "must not be negative",
      "pass a positive number such as 0.5",
    );
  }
  if (numBeamGroups > 1 && diversityPenalty === 0) {
    fail(
      "diversity_penalty",
      diversityPenalty,
      `must be positive when num_beam_groups is ${numBeamGroups}, or every group finds the same beams`,
      "pass a positive diversity_penalty such as 0.5, or set num_beam_groups to 1",
    );
  }
  if (numBeamGroups === 1 && diversityPenalty > 0) {
    fail(
      "diversity_penalty",
      diversityPenalty,
      "needs num_beam_groups above 1 (it penalises tokens chosen by other groups)",
      "set num_beam_groups to a divisor of num_beams above 1, or diversity_penalty to 0",
    );
  }

  const lengthPenalty = readFinite(options, "length_penalty", GENERATION_DEFAULTS.length_penalty);
  const earlyStopping = options.early_stopping ?? GENERATION_DEFAULTS.early_stopping;
  if (earlyStopping !== true && earlyStopping !== false && earlyStopping !== "never") {
    fail(
      "early_stopping",
      earlyStopping,
      'must be true, false or "never"',
      "pass one of those three values",
    );
  }

  const temperature = readFinite(options, "temperature", GENERATION_DEFAULTS.temperature);
  if (temperature <= 0) {
    fail(
      "temperature",
      temperature,
      "must be positive",
      "pass a value such as 0.7 (lower is sharper), or set do_sample to false for greedy decoding",
    );
  }
  const topK = readInteger(options, "top_k", GENERATION_DEFAULTS.top_k, 0);
  const topP = readFinite(options, "top_p", GENERATION_DEFAULTS.top_p);
  if (topP <= 0 || topP > 1) {
    fail(
      "top_p",
      topP,
      "must be in (0, 1]",
      "pass a probability mass such as 0.9, or 1 to disable nucleus sampling",
    );
  }

  let seed: number | null = null;
  if (options.seed !== undefined) {
    seed = readInteger(options, "seed", 0, 0);
  }

  const repetitionPenalty = readFinite(
    options,
    "repetition_penalty",
    GENERATION_DEFAULTS.repetition_penalty,
  );
  if (repetitionPenalty <= 0) {
    fail(
      "repetition_penalty",
      repetitionPenalty,
      "must be positive",
      "pass 1 for no penalty or a value such as 1.2",
    );
  }
  const noRepeatNgramSize = readInteger(
    options,
    "no_repeat_ngram_size",
    GENERATION_DEFAULTS.no_repeat_ngram_size,
    0,
  );

  const numReturnSequences = readInteger(
    options,
    "num_return_sequences",
    GENERATION_DEFAULTS.num_return_sequences,
    1,
  );
  const strategy = chooseStrategy(doSample, numBeams, numBeamGroups);
  if (strategy === "greedy" && numReturnSequences > 1) {
    fail(
      "num_return_sequences",
      numReturnSequences,
      "must be 1 for greedy decoding",
      "set num_beams to at least num_return_sequences, or do_sample to true",
    );
  }
  if (
    (strategy === "beam_search" || strategy === "diverse_beam_search") &&
    numReturnSequences > numBeams
  ) {
    fail(
      "num_return_sequences",
      numReturnSequences,
      `must not exceed num_beams (${numBeams})`,
      `raise num_beams to ${numReturnSequences} or lower num_return_sequences`,
    );
  }

  if (!doSample) {
    for (const param of SAMPLING_ONLY_OPTIONS) {
      const fallback = param === "seed" ? undefined : GENERATION_DEFAULTS[param];
      rejectUnusedOption(
        options,
        param,
        fallback,
        "without sampling",
        "set do_sample to true or remove the option",
      );
    }
  }
  if (numBeams === 1) {
    for (const param of BEAM_ONLY_OPTIONS) {
      rejectUnusedOption(
        options,
        param,
        GENERATION_DEFAULTS[param],
        "without beam search",
        "set num_beams above 1 or remove the option",
      );
    }
  }

  return {
    strategy,
    vocabSize,
    maxNewTokens,
    minNewTokens,
    numBeams,
    numBeamGroups,
    diversityPenalty,
    lengthPenalty,
    earlyStopping,
    temperature,
    topK,
    topP,
    seed,
    repetitionPenalty,
    noRepeatNgramSize,
    numReturnSequences,
    bosTokenId,
    eosTokenIds,
    padTokenId,
  };
}
