// A circuit breaker per backend. After `failureThreshold` consecutive failed calls it opens and
// rejects calls without contacting the backend. After `coolDownMs` it lets one probe call through
// (half-open), which closes it on success and reopens it on failure. State lives in memory, so each
// Worker isolate keeps its own.
import { BackendUnavailableError } from "./errors.ts";
import type { BackendKind } from "./types.ts";

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  failureThreshold: number;
  coolDownMs: number;
  /** Milliseconds since an arbitrary origin; Date.now by default. */
  now?: () => number;
}

export const DEFAULT_CIRCUIT_BREAKER_OPTIONS = { failureThreshold: 5, coolDownMs: 30_000 } as const;

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  private readonly now: () => number;
  private consecutiveFailures = 0;
  private openedAtMs: number | null = null;
  private probeInFlight = false;

  constructor(options: Partial<CircuitBreakerOptions> = {}) {
    const failureThreshold =
      options.failureThreshold ?? DEFAULT_CIRCUIT_BREAKER_OPTIONS.failureThreshold;
    const coolDownMs = options.coolDownMs ?? DEFAULT_CIRCUIT_BREAKER_OPTIONS.coolDownMs;
    if (!Number.isSafeInteger(failureThreshold) || failureThreshold < 1) {
      throw new RangeError(
        `failureThreshold must be an integer of at least 1, got ${failureThreshold}`,
      );
    }
    if (!Number.isFinite(coolDownMs) || coolDownMs < 0) {
      throw new RangeError(`coolDownMs must be a finite number of at least 0, got ${coolDownMs}`);
    }
    this.failureThreshold = failureThreshold;
    this.coolDownMs = coolDownMs;
    this.now = options.now ?? (() => Date.now());
  }

  get state(): CircuitState {
    if (this.openedAtMs === null) return "closed";
    return this.now() - this.openedAtMs >= this.coolDownMs ? "half-open" : "open";
  }

  /**
   * Admits a call or throws BackendUnavailableError (reason `circuit_open`). In the half-open state
   * only one probe is admitted until its outcome is recorded.
   */
  acquire(backend: BackendKind): void {
    const state = this.state;
    if (state === "closed") return;
    if (state === "half-open" && !this.probeInFlight) {
      this.probeInFlight = true;
      return;
    }
    const openedAtMs = this.openedAtMs ?? this.now();
    const retryAfterMs = Math.max(0, openedAtMs + this.coolDownMs - this.now());
    throw new BackendUnavailableError(backend, { reason: "circuit_open", retryAfterMs });
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
    this.openedAtMs = null;
    this.probeInFlight = false;
  }

  recordFailure(): void {
    this.consecutiveFailures += 1;
    const failedProbe = this.probeInFlight;
    this.probeInFlight = false;
    if (failedProbe || this.consecutiveFailures >= this.failureThreshold) {
      this.openedAtMs = this.now();
    }
  }

  /**
   * Ends a call whose outcome does not reflect the backend's health, such as a rejected option or
   * the caller cancelling. The failure count stays, and a half-open probe slot is freed.
   */
  recordNeutral(): void {
    this.probeInFlight = false;
  }
}

const sharedBreakers = new Map<string, CircuitBreaker>();

/**
 * Returns the isolate-wide breaker for `key` (for example the base URL and model), creating it with
 * `options` on first use. Adapters built per request share state through it.
 */
export function sharedCircuitBreaker(
  key: string,
  options: Partial<CircuitBreakerOptions> = {},
): CircuitBreaker {
  let breaker = sharedBreakers.get(key);
  if (breaker === undefined) {
    breaker = new CircuitBreaker(options);
    sharedBreakers.set(key, breaker);
  }
  return breaker;
}
