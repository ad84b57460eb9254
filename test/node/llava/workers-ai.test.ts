import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../shared/llava/circuit-breaker.ts";
import {
  BackendOptionError,
  BackendResponseError,
  BackendTimeoutError,
  BackendUnavailableError,
} from "../../../shared/llava/errors.ts";
import {
  buildWorkersAiInput,
  WORKERS_AI_LLAVA_MODEL,
  WorkersAIBackend,
  type WorkersAiBinding,
} from "../../../shared/llava/workers-ai.ts";
import {
  captionRequest,
  collectingLogger,
  INSTRUCTION,
  JPEG_BYTES,
  scriptedDeps,
} from "./helpers.ts";

/** Creates a fake `AI` binding that records calls, plays scripted outcomes, then returns `description`. */
function fakeBinding(
  outcomes: (() => Promise<unknown>)[] = [],
  description = " A dog on a couch.",
) {
  const calls: { model: string; inputs: Record<string, unknown> }[] = [];
  const binding: WorkersAiBinding = {
    run: (model, inputs) => {
      calls.push({ model, inputs });
      const next = outcomes.shift();
      return next ? next() : Promise.resolve({ description });
    },
  };
  return { binding, calls };
}

function adapter(binding: WorkersAiBinding, scripted = scriptedDeps()) {
  return new WorkersAIBackend({
    binding,
    circuitBreaker: new CircuitBreaker({ failureThreshold: 5, now: scripted.deps.now }),
    deps: scripted.deps,
    log: collectingLogger().log,
  });
}

describe("Workers AI input", () => {
  it("sends greedy search as temperature 0 and top_k 1", async () => {
    const { binding, calls } = fakeBinding();
    const result = await adapter(binding).caption(captionRequest({ seed: 4 }));

    expect(calls).toHaveLength(1);
    expect(calls[0]?.model).toBe(WORKERS_AI_LLAVA_MODEL);
    expect(calls[0]?.inputs).toEqual({
      image: Array.from(JPEG_BYTES),
      prompt: INSTRUCTION,
      max_tokens: 30,
      temperature: 0,
      top_k: 1,
    });
    expect(result).toEqual({
      captions: [{ text: "A dog on a couch.", finishReason: null }],
      usage: null,
      backend: "workers-ai",
      model: WORKERS_AI_LLAVA_MODEL,
      latencyMs: 0,
      warnings: [],
    });
  });

  it("maps sampling options", () => {
    const input = buildWorkersAiInput(
      captionRequest({
        do_sample: true,
        temperature: 0.6,
        top_p: 0.9,
        top_k: 40,
        seed: 12,
        repetition_penalty: 1.1,
      }),
    );
    expect(input).toEqual({
      image: Array.from(JPEG_BYTES),
      prompt: INSTRUCTION,
      max_tokens: 30,
      temperature: 0.6,
      top_p: 0.9,
      top_k: 40,
      seed: 12,
      repetition_penalty: 1.1,
    });
  });

  it("rejects beams, several sequences and a minimum length", () => {
    try {
      buildWorkersAiInput(
        captionRequest({ num_beams: 3, num_return_sequences: 2, min_new_tokens: 4 }),
      );
      throw new Error("expected BackendOptionError");
    } catch (error) {
      expect(error).toBeInstanceOf(BackendOptionError);
      expect((error as BackendOptionError).backend).toBe("workers-ai");
      expect((error as BackendOptionError).options.map((entry) => entry.option)).toEqual([
        "num_beams",
        "num_return_sequences",
        "min_new_tokens",
      ]);
    }
  });

  it("rejects a binding without run", () => {
    expect(() => new WorkersAIBackend({ binding: {} as WorkersAiBinding })).toThrow(
      /binding is missing/,
    );
  });
});

describe("Workers AI failures", () => {
  it("retries a thrown binding error", async () => {
    const scripted = scriptedDeps(0.5);
    const { binding, calls } = fakeBinding([
      () => Promise.reject(new Error("3040: Capacity temporarily exceeded")),
    ]);
    const result = await adapter(binding, scripted).caption(captionRequest());
    expect(calls).toHaveLength(2);
    expect(scripted.sleeps).toEqual([125]);
    expect(result.captions[0]?.text).toBe("A dog on a couch.");
  });

  it("reports exhausted retries with the last message", async () => {
    const failure = () => Promise.reject(new Error("3040: Capacity temporarily exceeded"));
    const { binding } = fakeBinding([failure, failure, failure]);
    const error = await adapter(binding)
      .caption(captionRequest())
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).reason).toBe("retries_exhausted");
    expect((error as BackendUnavailableError).excerpt).toBe("3040: Capacity temporarily exceeded");
  });

  it("rejects output without a description", async () => {
    const { binding } = fakeBinding([() => Promise.resolve({ response: "a dog" })]);
    const error = await adapter(binding)
      .caption(captionRequest())
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendResponseError);
    expect((error as BackendResponseError).status).toBeNull();
    expect((error as BackendResponseError).excerpt).toBe('{"response":"a dog"}');
  });

  it("times out a hanging run", async () => {
    const scripted = scriptedDeps();
    const { binding } = fakeBinding([() => new Promise(() => {})]);
    const pending = adapter(binding, scripted).caption(captionRequest());
    await Promise.resolve();
    scripted.expireAttempt();
    await expect(pending).rejects.toBeInstanceOf(BackendTimeoutError);
  });
});
