// Retries with exponential backoff and full jitter (the delay before retry k is uniform in
// [0, min(maxDelayMs, baseDelayMs * 2^k))), and Retry-After parsing. The clock, the random source
// and sleep are injected so tests replay exact schedules.

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured; a longer one ends the retries instead of waiting. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  maxRetryAfterMs: 10_000,
};

/** Time, randomness and waiting, injectable for deterministic tests. */
export interface RuntimeDeps {
  /** Milliseconds since an arbitrary origin. */
  now: () => number;
  /** Uniform in [0, 1). */
  random: () => number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Signal that aborts after `ms`; AbortSignal.timeout by default. */
  timeoutSignal: (ms: number) => AbortSignal;
}

export const DEFAULT_RUNTIME_DEPS: Readonly<RuntimeDeps> = {
  now: () => Date.now(),
  random: () => Math.random(),
  sleep: sleepWithSignal,
  timeoutSignal: (ms) => AbortSignal.timeout(ms),
};

/** Full-jitter delay before retry `retryIndex` (0 for the first retry). */
export function backoffDelayMs(
  retryIndex: number,
  policy: RetryPolicy,
  random: () => number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retryIndex);
  return Math.floor(random() * ceiling);
}

/**
 * Parses a Retry-After header (RFC 9110: delay-seconds or an HTTP-date) into milliseconds from
 * `nowMs`. Returns null when the header is missing or invalid; a date in the past gives 0.
 */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | null {
  if (header === null || header === undefined) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;

  // HTTP-dates name the weekday and month; without the letters check Date.parse would read "-1"
  // as a year.
  if (!/[A-Za-z]/.test(value)) return null;
  const dateMs = Date.parse(value);
  if (Number.isNaN(dateMs)) return null;
  return Math.max(0, dateMs - nowMs);
}

/** Merges partial settings over the defaults and checks them. */
export function resolveRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isSafeInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError(
      `retry maxAttempts must be an integer of at least 1, got ${policy.maxAttempts}`,
    );
  }
  for (const key of ["baseDelayMs", "maxDelayMs", "maxRetryAfterMs"] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) {
      throw new RangeError(
        `retry ${key} must be a finite number of at least 0, got ${policy[key]}`,
      );
    }
  }
  return policy;
}

function sleepWithSignal(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
