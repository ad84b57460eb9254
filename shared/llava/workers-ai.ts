// Caption backend for Cloudflare Workers AI's `@cf/llava-hf/llava-1.5-7b-hf` through the `AI`
// binding. Input fields follow the model's documented schema (image as 0-255 integers, prompt,
// max_tokens, temperature, top_p, top_k, seed, repetition_penalty); the output is `{ description }`.
import { type CircuitBreaker, sharedCircuitBreaker } from "./circuit-breaker.ts";
import {
  BackendOptionError,
  BackendResponseError,
  type RejectedOption,
  redactExcerpt,
} from "./errors.ts";
import { validateCaptionInput } from "./input.ts";
import { assertValidGeneration, resolveDecoding } from "./options.ts";
import { RetryableAttemptError, runResilientCall } from "./resilient-call.ts";
import {
  DEFAULT_RUNTIME_DEPS,
  type RetryPolicy,
  type RuntimeDeps,
  resolveRetryPolicy,
} from "./retry.ts";
import {
  type BackendLogger,
  type CaptionBackend,
  type CaptionRequest,
  type CaptionResult,
  consoleJsonLogger,
} from "./types.ts";

export const WORKERS_AI_LLAVA_MODEL = "@cf/llava-hf/llava-1.5-7b-hf";
export const DEFAULT_WORKERS_AI_TIMEOUT_MS = 60_000;

/** The part of the Workers `AI` binding this adapter calls; tests pass an object with `run`. */
export interface WorkersAiBinding {
  run(model: string, inputs: Record<string, unknown>): Promise<unknown>;
}

export interface WorkersAIBackendOptions {
  binding: WorkersAiBinding;
  model?: string;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  circuitBreaker?: CircuitBreaker;
  deps?: Partial<RuntimeDeps>;
  log?: BackendLogger;
}

/**
 * Builds the `env.AI.run` input, or throws BackendOptionError. The model returns one description
 * per call and has no beam search or minimum length, so num_return_sequences > 1, num_beams > 1
 * and min_new_tokens > 0 are rejected. Greedy search sends temperature 0 and top_k 1.
 * NOTE: the model page does not say whether temperature 0 is greedy; top_k 1 makes it so either way.
 */
export function buildWorkersAiInput(
  request: Pick<CaptionRequest, "image" | "mediaType" | "instruction" | "generation">,
): Record<string, unknown> {
  validateCaptionInput("workers-ai", request);
  const generation = request.generation;
  assertValidGeneration("workers-ai", generation);

  const decoding = resolveDecoding(generation);
  const unsupported: RejectedOption[] = [];
  if (decoding.mode === "beam") {
    unsupported.push({
      option: "num_beams",
      value: decoding.numBeams,
      reason: "Workers AI has no beam search; use num_beams 1 or a vllm backend",
    });
  }
  if (decoding.numReturnSequences > 1) {
    unsupported.push({
      option: "num_return_sequences",
      value: decoding.numReturnSequences,
      reason:
        "Workers AI returns one description per call; send one call per caption with different seeds",
    });
  }
  if ((generation.min_new_tokens ?? 0) > 0) {
    unsupported.push({
      option: "min_new_tokens",
      value: generation.min_new_tokens,
      reason: "Workers AI has no minimum output length; leave it unset",
    });
  }
  if (unsupported.length > 0) throw new BackendOptionError("workers-ai", unsupported);

  const input: Record<string, unknown> = {
    image: Array.from(request.image),
    prompt: request.instruction,
    max_tokens: generation.max_new_tokens,
  };
  if (decoding.mode === "sample") {
    input.temperature = generation.temperature;
    input.top_p = generation.top_p;
    if ((generation.top_k ?? 0) > 0) input.top_k = generation.top_k;
    if (generation.seed !== undefined) input.seed = generation.seed;
  } else {
    input.temperature = 0;
    input.top_k = 1;
  }
  if (generation.repetition_penalty !== undefined && generation.repetition_penalty !== 1) {
    input.repetition_penalty = generation.repetition_penalty;
  }
  return input;
}

export class WorkersAIBackend implements CaptionBackend {
  readonly kind = "workers-ai" as const;
  readonly model: string;
  private readonly binding: WorkersAiBinding;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly breaker: CircuitBreaker;
  private readonly deps: RuntimeDeps;
  private readonly log: BackendLogger;

  constructor(options: WorkersAIBackendOptions) {
    if (typeof options.binding?.run !== "function") {
      throw new TypeError(
        'Workers AI binding is missing: add [ai] binding = "AI" to wrangler.toml and pass env.AI',
      );
    }
    this.binding = options.binding;
    this.model = options.model ?? WORKERS_AI_LLAVA_MODEL;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WORKERS_AI_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new RangeError(
        `timeoutMs must be a positive number of milliseconds, got ${this.timeoutMs}`,
      );
    }
    this.policy = resolveRetryPolicy(options.retry);
    this.breaker = options.circuitBreaker ?? sharedCircuitBreaker(`workers-ai ${this.model}`);
    this.deps = { ...DEFAULT_RUNTIME_DEPS, ...options.deps };
    this.log = options.log ?? consoleJsonLogger;
  }

  async caption(request: CaptionRequest): Promise<CaptionResult> {
    const input = buildWorkersAiInput(request);

    const startedMs = this.deps.now();
    const description = await runResilientCall(
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
      (signal) => this.runOnce(input, signal),
    );
    const latencyMs = this.deps.now() - startedMs;

    // Workers AI reports no token counts, so the image_ignored check cannot run here.
    return {
      captions: [{ text: description.trim(), finishReason: null }],
      usage: null,
      backend: this.kind,
      model: this.model,
      latencyMs,
      warnings: [],
    };
  }

  private async runOnce(input: Record<string, unknown>, signal: AbortSignal): Promise<string> {
    let output: unknown;
    try {
      // NOTE: the binding takes no abort signal, so a timed-out inference keeps running (and is
      // billed) after the adapter gives up on it.
      output = await abortable(this.binding.run(this.model, input), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      // The binding throws plain errors for capacity limits and upstream failures alike, without
      // an HTTP status, so each one is retried.
      const message = error instanceof Error ? error.message : String(error);
      throw new RetryableAttemptError({
        status: null,
        excerpt: redactExcerpt(message),
        connectionFailed: false,
        cause: error,
      });
    }

    if (
      typeof output !== "object" ||
      output === null ||
      typeof (output as { description?: unknown }).description !== "string"
    ) {
      throw new BackendResponseError(
        this.kind,
        "Workers AI returned no `description` string; the model's output format may have changed.",
        { status: null, excerpt: redactExcerpt(safeStringify(output)) },
      );
    }
    return (output as { description: string }).description;
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
