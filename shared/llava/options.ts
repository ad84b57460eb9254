// Validation of the caption generation options and their mapping onto the sampling parameters of
// OpenAI-compatible chat servers. Every problem is collected before one BackendOptionError is
// thrown, so the edge's 400 names all of them at once.
import { BackendOptionError, type RejectedOption } from "./errors.ts";
import type { BackendKind, CaptionGeneration, ChatBackendKind } from "./types.ts";

/** Request fields a chat server kind accepts beyond OpenAI's model, messages, max_tokens, temperature, top_p and seed. */
export interface ChatCapabilities {
  topK: boolean;
  minTokens: boolean;
  /** Request field of the repetition penalty, or null when the server has none. */
  repetitionPenalty: "repetition_penalty" | "repeat_penalty" | null;
  /** Whether `n` > 1 returns that many choices. */
  multipleChoices: boolean;
  /** vLLM's `use_beam_search` extension. */
  beamSearch: boolean;
  /** Highest temperature the server accepts, when it rejects higher ones. */
  maxTemperature: number | null;
}

/**
 * Capabilities per server kind. vLLM: the sampling parameters of `ChatCompletionRequest` in
 * vllm/entrypoints/openai/chat_completion/protocol.py (use_beam_search, top_k, min_tokens,
 * repetition_penalty) and SamplingParams' temperature range [0, 2]. Ollama: the supported request
 * fields of its OpenAI compatibility page (no n, top_k or repetition penalty). llama.cpp's server
 * accepts its native `top_k` and `repeat_penalty` in chat requests and allows one choice only.
 * NOTE: the sglang and llamacpp rows were not checked against running servers.
 */
export const CHAT_CAPABILITIES: Readonly<Record<ChatBackendKind, ChatCapabilities>> = {
  vllm: {
    topK: true,
    minTokens: true,
    repetitionPenalty: "repetition_penalty",
    multipleChoices: true,
    beamSearch: true,
    maxTemperature: 2,
  },
  sglang: {
    topK: true,
    minTokens: true,
    repetitionPenalty: "repetition_penalty",
    multipleChoices: true,
    beamSearch: false,
    maxTemperature: null,
  },
  llamacpp: {
    topK: true,
    minTokens: false,
    repetitionPenalty: "repeat_penalty",
    multipleChoices: false,
    beamSearch: false,
    maxTemperature: null,
  },
  ollama: {
    topK: false,
    minTokens: false,
    repetitionPenalty: null,
    multipleChoices: false,
    beamSearch: false,
    maxTemperature: null,
  },
  "openai-compatible": {
    topK: false,
    minTokens: false,
    repetitionPenalty: null,
    multipleChoices: true,
    beamSearch: false,
    maxTemperature: null,
  },
};

export const CHAT_BACKEND_KINDS: readonly ChatBackendKind[] = Object.keys(
  CHAT_CAPABILITIES,
) as ChatBackendKind[];

/** The decoding strategy the options select, as transformers' generate() decides it. */
export interface ResolvedDecoding {
  mode: "greedy" | "sample" | "beam";
  numBeams: number;
  numReturnSequences: number;
}

/**
 * Checks option types, ranges and combinations that no backend can run (transformers rejects the
 * same ones). Returns the problems; an empty list means the options are valid.
 */
export function validateGeneration(generation: CaptionGeneration): RejectedOption[] {
  const problems: RejectedOption[] = [];
  const reject = (option: string, value: unknown, reason: string) => {
    problems.push({ option, value, reason });
  };

  if (!isIntegerAtLeast(generation.max_new_tokens, 1)) {
    reject("max_new_tokens", generation.max_new_tokens, "must be an integer of at least 1");
  }
  if (typeof generation.do_sample !== "boolean") {
    reject("do_sample", generation.do_sample, "must be true or false");
  }
  if (!isFiniteNumber(generation.temperature) || generation.temperature < 0) {
    reject("temperature", generation.temperature, "must be a finite number of at least 0");
  } else if (generation.do_sample === true && generation.temperature === 0) {
    reject(
      "temperature",
      generation.temperature,
      "must be greater than 0 when do_sample is true; set do_sample to false for greedy search",
    );
  }
  if (!isFiniteNumber(generation.top_p) || generation.top_p <= 0 || generation.top_p > 1) {
    reject("top_p", generation.top_p, "must be in (0, 1]");
  }
  if (generation.top_k !== undefined && !isIntegerAtLeast(generation.top_k, 0)) {
    reject("top_k", generation.top_k, "must be an integer of at least 0 (0 disables it)");
  }
  if (generation.seed !== undefined && !isIntegerAtLeast(generation.seed, 0)) {
    reject("seed", generation.seed, "must be a non-negative safe integer");
  }
  if (
    generation.repetition_penalty !== undefined &&
    (!isFiniteNumber(generation.repetition_penalty) || generation.repetition_penalty <= 0)
  ) {
    reject("repetition_penalty", generation.repetition_penalty, "must be a finite number above 0");
  }
  if (generation.min_new_tokens !== undefined) {
    if (!isIntegerAtLeast(generation.min_new_tokens, 0)) {
      reject("min_new_tokens", generation.min_new_tokens, "must be an integer of at least 0");
    } else if (
      isIntegerAtLeast(generation.max_new_tokens, 1) &&
      generation.min_new_tokens > generation.max_new_tokens
    ) {
      reject("min_new_tokens", generation.min_new_tokens, "must not exceed max_new_tokens");
    }
  }
  if (generation.length_penalty !== undefined && !isFiniteNumber(generation.length_penalty)) {
    reject("length_penalty", generation.length_penalty, "must be a finite number");
  }

  const numBeams = generation.num_beams ?? 1;
  const numReturnSequences = generation.num_return_sequences ?? 1;
  if (!isIntegerAtLeast(numBeams, 1)) {
    reject("num_beams", generation.num_beams, "must be an integer of at least 1");
  }
  if (!isIntegerAtLeast(numReturnSequences, 1)) {
    reject(
      "num_return_sequences",
      generation.num_return_sequences,
      "must be an integer of at least 1",
    );
  }
  if (problems.length > 0) return problems;

  if (numBeams > 1 && generation.do_sample) {
    reject(
      "num_beams",
      numBeams,
      "beam sampling (num_beams > 1 with do_sample true) is not supported; set do_sample to false",
    );
  } else if (numBeams > 1 && numReturnSequences > numBeams) {
    reject(
      "num_return_sequences",
      numReturnSequences,
      `must not exceed num_beams (${numBeams}) in beam search`,
    );
  } else if (numBeams === 1 && !generation.do_sample && numReturnSequences > 1) {
    reject(
      "num_return_sequences",
      numReturnSequences,
      "greedy search returns one sequence; set do_sample to true or num_beams to at least this value",
    );
  }
  return problems;
}

/** Selects the decoding strategy of options that passed validateGeneration. */
export function resolveDecoding(generation: CaptionGeneration): ResolvedDecoding {
  const numBeams = generation.num_beams ?? 1;
  const numReturnSequences = generation.num_return_sequences ?? 1;
  if (numBeams > 1) return { mode: "beam", numBeams, numReturnSequences };
  if (generation.do_sample) return { mode: "sample", numBeams: 1, numReturnSequences };
  return { mode: "greedy", numBeams: 1, numReturnSequences: 1 };
}

/** Chat request fields derived from the options, in the order they are serialised. */
export interface ChatSamplingFields {
  fields: Record<string, unknown>;
  decoding: ResolvedDecoding;
}

/**
 * Maps the options onto chat completion request fields for `kind`, or throws BackendOptionError
 * naming every option that is invalid or that the server cannot honour.
 *
 * Greedy search sends temperature 0 (every listed server treats it as greedy) and top_p 1. Beam
 * search (vLLM only) sends `use_beam_search` with `n` as the beam width; all beams come back, best
 * first. It also sends temperature 0: vLLM's beam search extends each beam with one-token
 * generations that return the top 2 x width log-probabilities, and only a greedy pick is sure to be
 * among them, which keeps vLLM's candidate bookkeeping aligned.
 */
export function mapChatSamplingFields(
  kind: ChatBackendKind,
  generation: CaptionGeneration,
): ChatSamplingFields {
  assertValidGeneration(kind, generation);

  const capabilities = CHAT_CAPABILITIES[kind];
  const decoding = resolveDecoding(generation);
  const unsupported: RejectedOption[] = [];
  const cannot = (option: string, value: unknown, reason: string) => {
    unsupported.push({ option, value, reason });
  };

  const topK =
    decoding.mode === "sample" && (generation.top_k ?? 0) > 0 ? generation.top_k : undefined;
  const minTokens = (generation.min_new_tokens ?? 0) > 0 ? generation.min_new_tokens : undefined;
  const repetitionPenalty =
    generation.repetition_penalty !== undefined && generation.repetition_penalty !== 1
      ? generation.repetition_penalty
      : undefined;

  if (decoding.mode === "beam" && !capabilities.beamSearch) {
    cannot(
      "num_beams",
      decoding.numBeams,
      `${kind} has no beam search; use num_beams 1 or a vllm backend`,
    );
  }
  if (
    decoding.mode === "sample" &&
    decoding.numReturnSequences > 1 &&
    !capabilities.multipleChoices
  ) {
    cannot(
      "num_return_sequences",
      decoding.numReturnSequences,
      `${kind} returns one choice per request; send one request per caption with different seeds`,
    );
  }
  if (topK !== undefined && !capabilities.topK) {
    cannot("top_k", topK, `${kind} has no top_k; leave it unset or use top_p`);
  }
  if (minTokens !== undefined) {
    if (!capabilities.minTokens) {
      cannot("min_new_tokens", minTokens, `${kind} has no minimum output length; leave it unset`);
    } else if (decoding.mode === "beam") {
      cannot("min_new_tokens", minTokens, "vLLM's beam search has no min_tokens; leave it unset");
    }
  }
  if (repetitionPenalty !== undefined) {
    if (capabilities.repetitionPenalty === null) {
      cannot(
        "repetition_penalty",
        repetitionPenalty,
        `${kind} has no repetition penalty; leave it unset`,
      );
    } else if (decoding.mode === "beam") {
      cannot(
        "repetition_penalty",
        repetitionPenalty,
        "vLLM's beam search has no repetition penalty; leave it unset",
      );
    }
  }
  if (
    decoding.mode === "sample" &&
    capabilities.maxTemperature !== null &&
    generation.temperature > capabilities.maxTemperature
  ) {
    cannot(
      "temperature",
      generation.temperature,
      `${kind} accepts at most ${capabilities.maxTemperature}`,
    );
  }
  if (unsupported.length > 0) throw new BackendOptionError(kind, unsupported);

  return {
    fields: buildFields(kind, generation, decoding, { topK, minTokens, repetitionPenalty }),
    decoding,
  };
}

function buildFields(
  kind: ChatBackendKind,
  generation: CaptionGeneration,
  decoding: ResolvedDecoding,
  extras: {
    topK: number | undefined;
    minTokens: number | undefined;
    repetitionPenalty: number | undefined;
  },
): Record<string, unknown> {
  const fields: Record<string, unknown> = { max_tokens: generation.max_new_tokens };

  if (decoding.mode === "sample") {
    fields.temperature = generation.temperature;
    fields.top_p = generation.top_p;
    fields.n = decoding.numReturnSequences;
    if (generation.seed !== undefined) fields.seed = generation.seed;
    if (extras.topK !== undefined) fields.top_k = extras.topK;
  } else if (decoding.mode === "greedy") {
    fields.temperature = 0;
    fields.top_p = 1;
    fields.n = 1;
  } else {
    fields.temperature = 0;
    fields.n = decoding.numBeams;
    fields.use_beam_search = true;
    fields.length_penalty = generation.length_penalty ?? 1;
  }

  if (extras.minTokens !== undefined) fields.min_tokens = extras.minTokens;
  if (extras.repetitionPenalty !== undefined) {
    const name = CHAT_CAPABILITIES[kind].repetitionPenalty ?? "repetition_penalty";
    fields[name] = extras.repetitionPenalty;
    // llama.cpp penalises only the last 64 tokens by default; -1 widens the window to the whole
    // context, as transformers' repetition penalty covers every previous token.
    if (name === "repeat_penalty") fields.repeat_last_n = -1;
  }
  return fields;
}

/** Throws BackendOptionError for `backend` when validateGeneration finds problems. */
export function assertValidGeneration(backend: BackendKind, generation: CaptionGeneration): void {
  const problems = validateGeneration(generation);
  if (problems.length > 0) throw new BackendOptionError(backend, problems);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function isIntegerAtLeast(value: unknown, minimum: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= minimum;
}
