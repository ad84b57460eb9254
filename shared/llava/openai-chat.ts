// Caption backend for OpenAI-compatible chat completion servers (vLLM, SGLang, llama.cpp's server,
// Ollama's /v1, others): POST {baseUrl}/v1/chat/completions with the image as a data URL.

import {
  extractErrorExcerpt,
  type ParsedChatCompletion,
  parseChatCompletion,
} from "./chat-response.ts";
import { type CircuitBreaker, sharedCircuitBreaker } from "./circuit-breaker.ts";
import { BackendResponseError, redactExcerpt } from "./errors.ts";
import { checkImageTokens, DEFAULT_IMAGE_CHECK, type ImageCheckOptions } from "./image-check.ts";
import { encodeDataUrl, validateCaptionInput } from "./input.ts";
import { mapChatSamplingFields, type ResolvedDecoding } from "./options.ts";
import { RetryableAttemptError, runResilientCall } from "./resilient-call.ts";
import {
  DEFAULT_RUNTIME_DEPS,
  parseRetryAfterMs,
  type RetryPolicy,
  type RuntimeDeps,
  resolveRetryPolicy,
} from "./retry.ts";
import {
  type BackendLogger,
  type CaptionBackend,
  type CaptionRequest,
  type CaptionResult,
  type ChatBackendKind,
  consoleJsonLogger,
} from "./types.ts";

export const DEFAULT_LLAVA_MODEL = "llava-hf/llava-1.5-7b-hf";
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000;

export interface OpenAIChatBackendOptions {
  kind: ChatBackendKind;
  /** Server root, for example `http://gpu-host:8000`; a trailing `/v1` is accepted. */
  baseUrl: string;
  /** Model name the server serves, sent as `model`. */
  model?: string;
  /** Sent as `Authorization: Bearer <key>` when set. */
  apiKey?: string;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Defaults to the isolate-wide breaker of this kind, URL and model. */
  circuitBreaker?: CircuitBreaker;
  imageCheck?: Partial<ImageCheckOptions>;
  fetch?: typeof fetch;
  deps?: Partial<RuntimeDeps>;
  log?: BackendLogger;
}

/** The request body and the decoding it encodes. */
export interface ChatCompletionBody {
  body: Record<string, unknown>;
  decoding: ResolvedDecoding;
}

/**
 * Builds the chat completion body: one user message whose content is the image part followed by
 * the text part (LLaVA-1.5 was trained with the image before the instruction), then the sampling
 * fields of mapChatSamplingFields. Throws BackendOptionError for invalid input or options.
 */
export function buildChatCompletionBody(
  kind: ChatBackendKind,
  model: string,
  request: Pick<CaptionRequest, "image" | "mediaType" | "instruction" | "generation">,
): ChatCompletionBody {
  validateCaptionInput(kind, request);
  const { fields, decoding } = mapChatSamplingFields(kind, request.generation);
  const body = {
    model,
    messages: [
      {
        role: "user",
        content: [
          {
            type: "image_url",
            image_url: { url: encodeDataUrl(request.mediaType, request.image) },
          },
          { type: "text", text: request.instruction },
        ],
      },
    ],
    ...fields,
  };
  return { body, decoding };
}

/** Resolves `baseUrl` to the chat completions endpoint; throws TypeError for a non-HTTP URL. */
export function chatCompletionsUrl(baseUrl: string): string {
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch (error) {
    throw new TypeError(
      `LLaVA baseUrl ${JSON.stringify(baseUrl)} is not a URL; use for example http://host:8000`,
      {
        cause: error,
      },
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`LLaVA baseUrl must use http or https, got ${parsed.protocol}`);
  }
  const root = parsed.href.replace(/\/+$/, "");
  return root.endsWith("/v1") ? `${root}/chat/completions` : `${root}/v1/chat/completions`;
}

export class OpenAIChatBackend implements CaptionBackend {
  readonly kind: ChatBackendKind;
  readonly model: string;
  readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly breaker: CircuitBreaker;
  private readonly imageCheck: ImageCheckOptions;
  private readonly fetchImpl: typeof fetch;
  private readonly deps: RuntimeDeps;
  private readonly log: BackendLogger;

  constructor(options: OpenAIChatBackendOptions) {
    this.kind = options.kind;
    this.model = options.model ?? DEFAULT_LLAVA_MODEL;
    this.url = chatCompletionsUrl(options.baseUrl);
    this.apiKey = options.apiKey === "" ? undefined : options.apiKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new RangeError(
        `timeoutMs must be a positive number of milliseconds, got ${this.timeoutMs}`,
      );
    }
    this.policy = resolveRetryPolicy(options.retry);
    this.breaker =
      options.circuitBreaker ?? sharedCircuitBreaker(`${this.kind} ${this.url} ${this.model}`);
    this.imageCheck = { ...DEFAULT_IMAGE_CHECK, ...options.imageCheck };
    // Called unbound: Workers' fetch throws "Illegal invocation" when called as a method of an object.
    const fetchImpl = options.fetch ?? globalThis.fetch;
    this.fetchImpl = (input, init) => fetchImpl(input, init);
    this.deps = { ...DEFAULT_RUNTIME_DEPS, ...options.deps };
    this.log = options.log ?? consoleJsonLogger;
  }

  async caption(request: CaptionRequest): Promise<CaptionResult> {
    const { body, decoding } = buildChatCompletionBody(this.kind, this.model, request);
    const bodyText = JSON.stringify(body);
    // vLLM's beam search returns every beam; greedy and sampling return n = num_return_sequences.
    const expectedChoices =
      decoding.mode === "beam" ? decoding.numBeams : decoding.numReturnSequences;

    const startedMs = this.deps.now();
    const parsed = await runResilientCall(
      {
        backend: this.kind,
        breaker: this.breaker,
        policy: this.policy,
        deps: this.deps,
        timeoutMs: this.timeoutMs,
        signal: request.signal,
        log: this.log,
        logFields: { model: this.model },
      },
      (signal) => this.postOnce(bodyText, expectedChoices, signal),
    );
    const latencyMs = this.deps.now() - startedMs;

    const warning = checkImageTokens(this.kind, parsed.usage, this.imageCheck);
    if (warning !== null) {
      this.log("warn", "llava backend ignored the image", {
        backend: this.kind,
        model: this.model,
        prompt_tokens: warning.promptTokens,
        expected_image_tokens: warning.expectedImageTokens,
      });
    }
    return {
      captions: parsed.captions.slice(0, decoding.numReturnSequences),
      usage: parsed.usage,
      backend: this.kind,
      model: this.model,
      latencyMs,
      warnings: warning === null ? [] : [warning],
    };
  }

  private async postOnce(
    bodyText: string,
    expectedChoices: number,
    signal: AbortSignal,
  ): Promise<ParsedChatCompletion> {
    const secrets = this.apiKey === undefined ? [] : [this.apiKey];
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
    };
    if (this.apiKey !== undefined) headers.authorization = `Bearer ${this.apiKey}`;

    let status: number;
    let retryAfter: string | null;
    let responseText: string;
    try {
      const response = await this.fetchImpl(this.url, {
        method: "POST",
        headers,
        body: bodyText,
        signal,
      });
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      responseText = await response.text();
    } catch (error) {
      if (signal.aborted) throw error;
      throw new RetryableAttemptError({
        status: null,
        excerpt: describeFetchError(error, secrets),
        cause: error,
      });
    }

    if (status >= 200 && status < 300) {
      return parseChatCompletion(this.kind, responseText, expectedChoices, secrets);
    }
    const excerpt = extractErrorExcerpt(responseText, secrets);
    if (status === 429 || status >= 500) {
      throw new RetryableAttemptError({
        status,
        excerpt,
        retryAfterMs: parseRetryAfterMs(retryAfter, this.deps.now()),
      });
    }
    throw new BackendResponseError(
      this.kind,
      `Backend ${this.kind} rejected the request with status ${status}: ${excerpt}`,
      { status, excerpt },
    );
  }
}

/** Node's fetch reports "fetch failed" and keeps the socket error (ECONNREFUSED, ...) in `cause`. */
function describeFetchError(error: unknown, secrets: readonly string[]): string {
  if (!(error instanceof Error)) return redactExcerpt(String(error), secrets);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return redactExcerpt(`${error.message}${cause}`, secrets);
}
