// Runs one backend call under the circuit breaker, with a timeout per attempt (combined with the
// caller's signal) and retries with full jitter on retryable failures (429, 5xx, connection errors).
import type { CircuitBreaker } from "./circuit-breaker.ts";
import { BackendError, BackendTimeoutError, BackendUnavailableError } from "./errors.ts";
import { backoffDelayMs, type RetryPolicy, type RuntimeDeps } from "./retry.ts";
import type { BackendKind, BackendLogger } from "./types.ts";

/**
 * A failed attempt worth retrying: HTTP 429 or 5xx, no response at all, or an error thrown by the
 * Workers AI binding (`status` null). Adapters throw it from an attempt; the runner turns the last
 * one into BackendUnavailableError.
 */
export class RetryableAttemptError extends Error {
  override name = "RetryableAttemptError";
  readonly status: number | null;
  /** Redacted excerpt of the backend's error message. */
  readonly excerpt: string;
  readonly retryAfterMs: number | null;
  /** True when no response came back at all (connection refused or reset). */
  readonly connectionFailed: boolean;

  constructor(details: {
    status: number | null;
    excerpt: string;
    retryAfterMs?: number | null;
    connectionFailed?: boolean;
    cause?: unknown;
  }) {
    super(
      details.status === null
        ? `attempt failed: ${details.excerpt}`
        : `status ${details.status}: ${details.excerpt}`,
      { cause: details.cause },
    );
    this.status = details.status;
    this.excerpt = details.excerpt;
    this.retryAfterMs = details.retryAfterMs ?? null;
    this.connectionFailed = details.connectionFailed ?? details.status === null;
  }
}

export interface ResilientCallContext {
  backend: BackendKind;
  breaker: CircuitBreaker;
  policy: RetryPolicy;
  deps: RuntimeDeps;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  log: BackendLogger;
  /** Identifying fields added to every log line, for example the model. */
  logFields: Record<string, unknown>;
}

/**
 * Calls `attempt` until it succeeds, throws a non-retryable error, or the retries run out.
 * The breaker counts timeouts and unavailability as failures; other errors and the caller's own
 * cancellation leave its failure count unchanged. A caller abort rethrows the signal's reason.
 */
export async function runResilientCall<T>(
  context: ResilientCallContext,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  context.breaker.acquire(context.backend);
  try {
    const value = await retryAttempts(context, attempt);
    context.breaker.recordSuccess();
    return value;
  } catch (error) {
    if (error instanceof BackendTimeoutError || error instanceof BackendUnavailableError) {
      context.breaker.recordFailure();
      context.log("error", "llava backend call failed", {
        ...context.logFields,
        backend: context.backend,
        error: error.name,
        message: error.message,
        breaker: context.breaker.state,
      });
    } else {
      context.breaker.recordNeutral();
    }
    throw error;
  }
}

async function retryAttempts<T>(
  context: ResilientCallContext,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { backend, policy, deps, timeoutMs, signal: callerSignal } = context;

  for (let attemptNumber = 1; ; attemptNumber += 1) {
    const timeoutSignal = deps.timeoutSignal(timeoutMs);
    const attemptSignal = callerSignal
      ? combineSignals([callerSignal, timeoutSignal])
      : timeoutSignal;

    let failure: RetryableAttemptError;
    try {
      return await attempt(attemptSignal);
    } catch (error) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      if (timeoutSignal.aborted)
        throw new BackendTimeoutError(backend, timeoutMs, { cause: error });
      if (error instanceof BackendError || !(error instanceof RetryableAttemptError)) throw error;
      failure = error;
    }

    if (failure.retryAfterMs !== null && failure.retryAfterMs > policy.maxRetryAfterMs) {
      throw new BackendUnavailableError(backend, {
        reason: "retry_after_too_long",
        status: failure.status,
        excerpt: failure.excerpt,
        attempts: attemptNumber,
        retryAfterMs: failure.retryAfterMs,
        cause: failure,
      });
    }
    if (attemptNumber >= policy.maxAttempts) {
      throw new BackendUnavailableError(backend, {
        reason: failure.connectionFailed ? "connection_failed" : "retries_exhausted",
        status: failure.status,
        excerpt: failure.excerpt,
        attempts: attemptNumber,
        retryAfterMs: failure.retryAfterMs,
        cause: failure,
      });
    }

    const delayMs = failure.retryAfterMs ?? backoffDelayMs(attemptNumber - 1, policy, deps.random);
    context.log("warn", "llava backend retry", {
      ...context.logFields,
      backend,
      attempt: attemptNumber,
      status: failure.status,
      excerpt: failure.excerpt,
      delay_ms: delayMs,
    });
    await deps.sleep(delayMs, callerSignal);
  }
}

/** AbortSignal.any where the runtime has it, otherwise a signal that follows the first abort. */
function combineSignals(signals: AbortSignal[]): AbortSignal {
  if (typeof AbortSignal.any === "function") return AbortSignal.any(signals);

  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}
