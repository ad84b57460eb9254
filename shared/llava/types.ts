// The caption backend contract shared by the LLaVA adapters: one image and one instruction in,
// one or more captions out. Generation options use Hugging Face transformers' GenerationConfig names.

/** OpenAI-compatible chat servers, which differ in the extra sampling options they accept. */
export type ChatBackendKind = "vllm" | "sglang" | "llamacpp" | "ollama" | "openai-compatible";

export type BackendKind = ChatBackendKind | "workers-ai";

/**
 * Decoding options, named as in transformers' GenerationConfig. With `do_sample: false` the
 * sampling-only options (temperature, top_p, top_k, seed) have no effect and are not sent, as
 * transformers ignores them in greedy and beam search.
 */
export interface CaptionGeneration {
  max_new_tokens: number;
  temperature: number;
  top_p: number;
  top_k?: number;
  do_sample: boolean;
  num_beams?: number;
  num_return_sequences?: number;
  seed?: number;
  repetition_penalty?: number;
  min_new_tokens?: number;
  /** Exponent of the length normalisation of beam scores; only beam search reads it. */
  length_penalty?: number;
}

export interface CaptionRequest {
  /** The uploaded file's bytes (JPEG, PNG, ...), sent without re-encoding. */
  image: Uint8Array;
  /** Media type of `image`, for example `image/jpeg`. */
  mediaType: string;
  instruction: string;
  generation: CaptionGeneration;
  /** Caller's cancellation, for example the client disconnecting; combined with the attempt timeout. */
  signal?: AbortSignal;
}

export interface Caption {
  /** Generated text, trimmed. */
  text: string;
  /** The backend's finish reason (`stop`, `length`, ...); null when the backend reports none. */
  finishReason: string | null;
}

export interface TokenUsage {
  /** Prompt tokens as the backend counted them, image tokens included. */
  promptTokens: number;
  completionTokens: number;
}

/** The backend's prompt had fewer tokens than the image alone expands to, so the image was dropped. */
export interface ImageIgnoredWarning {
  code: "image_ignored";
  message: string;
  promptTokens: number;
  expectedImageTokens: number;
}

export type CaptionWarning = ImageIgnoredWarning;

export interface CaptionResult {
  /** Best first; `num_return_sequences` entries. */
  captions: Caption[];
  /** Null when the backend reports no token counts (Workers AI). */
  usage: TokenUsage | null;
  backend: BackendKind;
  model: string;
  /** Milliseconds from the first attempt to the parsed response, retries and their waits included. */
  latencyMs?: number;
  warnings: CaptionWarning[];
}

export interface CaptionBackend {
  readonly kind: BackendKind;
  readonly model: string;
  caption(request: CaptionRequest): Promise<CaptionResult>;
}

/** Structured log sink; the default writes one JSON line per event with console. */
export type BackendLogger = (
  level: "info" | "warn" | "error",
  msg: string,
  fields: Record<string, unknown>,
) => void;

export const consoleJsonLogger: BackendLogger = (level, msg, fields) => {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
};
