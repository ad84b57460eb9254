// Shared fixtures of the LLaVA adapter tests: a deterministic clock, random source and sleep, and
// generation options with the homework's defaults.
import type { RuntimeDeps } from "../../../shared/llava/retry.ts";
import type { CaptionGeneration, CaptionRequest } from "../../../shared/llava/types.ts";

/** The first bytes of a JFIF file; enough for the fake server's magic-number check. */
export const JPEG_BYTES = new Uint8Array([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46,
]);

export const INSTRUCTION = "Describe this image using one or more simple sentences.";

export const GREEDY: CaptionGeneration = {
  max_new_tokens: 30,
  temperature: 1,
  top_p: 1,
  do_sample: false,
};

export function captionRequest(
  generation: Partial<CaptionGeneration> = {},
  extra: Partial<CaptionRequest> = {},
): CaptionRequest {
  return {
    image: JPEG_BYTES,
    mediaType: "image/jpeg",
    instruction: INSTRUCTION,
    generation: { ...GREEDY, ...generation },
    ...extra,
  };
}

export interface ScriptedDeps {
  deps: RuntimeDeps;
  /** Every sleep requested, in milliseconds. */
  sleeps: number[];
  /** Aborts the timeout signal of the attempt that is running. */
  expireAttempt(): void;
  advance(ms: number): void;
}

/**
 * Creates a clock that moves only when sleep() or advance() is called, a fixed random value, and
 * timeout signals that abort only when the test calls expireAttempt().
 */
export function scriptedDeps(randomValue = 0.5, startMs = 1_000_000): ScriptedDeps {
  let nowMs = startMs;
  const sleeps: number[] = [];
  let current: AbortController | null = null;
  return {
    deps: {
      now: () => nowMs,
      random: () => randomValue,
      sleep: async (ms, signal) => {
        if (signal?.aborted) throw signal.reason;
        sleeps.push(ms);
        nowMs += ms;
      },
      timeoutSignal: () => {
        current = new AbortController();
        return current.signal;
      },
    },
    sleeps,
    expireAttempt: () => current?.abort(new DOMException("attempt timed out", "TimeoutError")),
    advance: (ms) => {
      nowMs += ms;
    },
  };
}

/** Creates a logger that keeps its lines for assertions instead of printing them. */
export function collectingLogger() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  return {
    lines,
    log: (level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown>) => {
      lines.push({ level, msg, fields });
    },
  };
}
