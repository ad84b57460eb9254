import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../shared/llava/circuit-breaker.ts";
import {
  BackendResponseError,
  BackendTimeoutError,
  BackendUnavailableError,
} from "../../../shared/llava/errors.ts";
import {
  OpenAIChatBackend,
  type OpenAIChatBackendOptions,
} from "../../../shared/llava/openai-chat.ts";
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
} from "../../../shared/llava/retry.ts";
import { type FakeOpenAIServer, startFakeOpenAIServer } from "../../helpers/fake-openai-server.ts";
import { captionRequest, collectingLogger, type ScriptedDeps, scriptedDeps } from "./helpers.ts";

let server: FakeOpenAIServer;
let scripted: ScriptedDeps;
let logger: ReturnType<typeof collectingLogger>;

beforeEach(async () => {
  server = await startFakeOpenAIServer();
  scripted = scriptedDeps(0.5);
  logger = collectingLogger();
});
afterEach(async () => {
  await server.close();
});

function backend(overrides: Partial<OpenAIChatBackendOptions> = {}): OpenAIChatBackend {
  return new OpenAIChatBackend({
    kind: "vllm",
    baseUrl: server.baseUrl,
    circuitBreaker: new CircuitBreaker({
      failureThreshold: 3,
      coolDownMs: 30_000,
      now: scripted.deps.now,
    }),
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
    deps: scripted.deps,
    log: logger.log,
    ...overrides,
  });
}

async function captureError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("retries with full jitter", () => {
  it("retries 500 and 503, then succeeds", async () => {
    server.enqueue({ kind: "status", status: 500 }, { kind: "status", status: 503 });
    const result = await backend().caption(captionRequest());

    expect(server.requests).toHaveLength(3);
    expect(result.captions).toHaveLength(1);
    // random() = 0.5: half of min(1000, 100 * 2^k) for retries k = 0, 1.
    expect(scripted.sleeps).toEqual([50, 100]);
    expect(logger.lines.filter((line) => line.msg === "llava backend retry")).toHaveLength(2);
  });

  it("throws unavailable after the last attempt", async () => {
    server.enqueue(
      { kind: "status", status: 503, message: "engine overloaded" },
      { kind: "status", status: 503, message: "engine overloaded" },
      { kind: "status", status: 502, message: "bad gateway upstream" },
    );
    const error = await captureError(backend().caption(captionRequest()));

    expect(error).toBeInstanceOf(BackendUnavailableError);
    const unavailable = error as BackendUnavailableError;
    expect(unavailable.reason).toBe("retries_exhausted");
    expect(unavailable.status).toBe(502);
    expect(unavailable.excerpt).toBe("bad gateway upstream");
    expect(unavailable.attempts).toBe(3);
    expect(unavailable.httpStatus).toBe(502);
    expect(server.requests).toHaveLength(3);
  });

  it("computes full-jitter delays within the cap", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelayMs(0, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(0, policy, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(400);
    expect(backoffDelayMs(10, policy, () => 0.5)).toBe(500);
  });

  it("does not retry a 404 for an unknown model", async () => {
    const error = await captureError(
      backend({ model: "llava-hf/llava-1.5-13b-hf" }).caption(captionRequest()),
    );

    expect(error).toBeInstanceOf(BackendResponseError);
    expect((error as BackendResponseError).status).toBe(404);
    expect((error as BackendResponseError).excerpt).toBe(
      "The model `llava-hf/llava-1.5-13b-hf` does not exist.",
    );
    expect(server.requests).toHaveLength(1);
  });

  it("does not retry a 401 and never echoes the key", async () => {
    const guarded = await startFakeOpenAIServer({ apiKey: "right-key" });
    try {
      const error = await captureError(
        backend({ baseUrl: guarded.baseUrl, apiKey: "wrong-key-987" }).caption(captionRequest()),
      );
      expect(error).toBeInstanceOf(BackendResponseError);
      expect((error as BackendResponseError).status).toBe(401);
      expect((error as Error).message).not.toContain("wrong-key-987");
      expect(guarded.requests).toHaveLength(1);
    } finally {
      await guarded.close();
    }
  });
});

describe("Retry-After", () => {
  it("waits the seconds the 429 asks for", async () => {
    server.enqueue({ kind: "status", status: 429, retryAfter: "2" });
    await backend().caption(captionRequest());
    expect(scripted.sleeps).toEqual([2_000]);
  });

  it("accepts an HTTP date", async () => {
    const date = new Date(scripted.deps.now() + 3_000).toUTCString();
    server.enqueue({ kind: "status", status: 429, retryAfter: date });
    await backend().caption(captionRequest());
    expect(scripted.sleeps).toEqual([3_000]);
  });

  it("gives up when the wait exceeds the cap", async () => {
    server.enqueue({ kind: "status", status: 429, retryAfter: "60" });
    const error = await captureError(backend().caption(captionRequest()));

    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).reason).toBe("retry_after_too_long");
    expect((error as BackendUnavailableError).retryAfterMs).toBe(60_000);
    expect(scripted.sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it("parses seconds, dates and invalid values", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfterMs("0", now)).toBe(0);
    expect(parseRetryAfterMs(" 7 ", now)).toBe(7_000);
    expect(parseRetryAfterMs("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5_000);
    expect(parseRetryAfterMs("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfterMs("soon", now)).toBeNull();
    expect(parseRetryAfterMs("-1", now)).toBeNull();
    expect(parseRetryAfterMs(null, now)).toBeNull();
  });
});

describe("timeouts and cancellation", () => {
  it("throws a timeout error without retrying", async () => {
    server.enqueue({ kind: "delay", delayMs: 60_000 });
    const pending = backend().caption(captionRequest());
    await waitFor(() => server.requests.length === 1);
    scripted.expireAttempt();

    const error = await captureError(pending);
    expect(error).toBeInstanceOf(BackendTimeoutError);
    expect((error as BackendTimeoutError).httpStatus).toBe(504);
    expect((error as BackendTimeoutError).timeoutMs).toBe(60_000);
    expect(server.requests).toHaveLength(1);
  });

  it("times out with the real AbortSignal.timeout", async () => {
    server.enqueue({ kind: "delay", delayMs: 60_000 });
    const { timeoutSignal: _unused, ...realTimeout } = scripted.deps;
    const error = await captureError(
      backend({ timeoutMs: 20, deps: { ...realTimeout } }).caption(captionRequest()),
    );
    expect(error).toBeInstanceOf(BackendTimeoutError);
  });

  it("rethrows the caller's abort reason", async () => {
    server.enqueue({ kind: "delay", delayMs: 60_000 });
    const controller = new AbortController();
    const pending = backend().caption(captionRequest({}, { signal: controller.signal }));
    await waitFor(() => server.requests.length === 1);
    const reason = new Error("client went away");
    controller.abort(reason);

    expect(await captureError(pending)).toBe(reason);
  });

  it("reports a refused connection as unavailable", async () => {
    const closedPort = await unusedPort();
    const error = await captureError(
      backend({ baseUrl: `http://127.0.0.1:${closedPort}` }).caption(captionRequest()),
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).reason).toBe("connection_failed");
    expect((error as BackendUnavailableError).status).toBeNull();
    expect((error as BackendUnavailableError).excerpt).toMatch(/fetch failed/);
    expect(scripted.sleeps).toHaveLength(2);
  });

  it("retries a dropped connection", async () => {
    server.enqueue({ kind: "drop" });
    const result = await backend().caption(captionRequest());
    expect(result.captions).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });
});

describe("circuit breaker", () => {
  it("opens, rejects, half-opens and closes", async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 2,
      coolDownMs: 10_000,
      now: scripted.deps.now,
    });
    const adapter = backend({ circuitBreaker: breaker, retry: { maxAttempts: 1 } });

    server.enqueue({ kind: "status", status: 500 }, { kind: "status", status: 500 });
    await captureError(adapter.caption(captionRequest()));
    expect(breaker.state).toBe("closed");
    await captureError(adapter.caption(captionRequest()));
    expect(breaker.state).toBe("open");

    const rejected = await captureError(adapter.caption(captionRequest()));
    expect(rejected).toBeInstanceOf(BackendUnavailableError);
    expect((rejected as BackendUnavailableError).reason).toBe("circuit_open");
    expect((rejected as BackendUnavailableError).retryAfterMs).toBe(10_000);
    expect(server.requests).toHaveLength(2);

    scripted.advance(10_000);
    expect(breaker.state).toBe("half-open");
    await adapter.caption(captionRequest());
    expect(breaker.state).toBe("closed");
    expect(server.requests).toHaveLength(3);
  });

  it("reopens when the half-open probe fails", async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      coolDownMs: 5_000,
      now: scripted.deps.now,
    });
    const adapter = backend({ circuitBreaker: breaker, retry: { maxAttempts: 1 } });

    server.enqueue({ kind: "status", status: 503 }, { kind: "status", status: 503 });
    await captureError(adapter.caption(captionRequest()));
    scripted.advance(5_000);
    expect(breaker.state).toBe("half-open");

    await captureError(adapter.caption(captionRequest()));
    expect(breaker.state).toBe("open");
  });

  it("admits one probe while half-open", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 100, now: () => now });
    breaker.acquire("vllm");
    breaker.recordFailure();
    now = 100;

    breaker.acquire("vllm");
    expect(() => breaker.acquire("vllm")).toThrow(BackendUnavailableError);
    breaker.recordNeutral();
    expect(() => breaker.acquire("vllm")).not.toThrow();
  });

  it("ignores client errors and option errors", async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      coolDownMs: 5_000,
      now: scripted.deps.now,
    });
    await captureError(
      backend({ circuitBreaker: breaker, model: "other" }).caption(captionRequest()),
    );
    await captureError(backend({ circuitBreaker: breaker }).caption(captionRequest({ top_p: 2 })));
    expect(breaker.state).toBe("closed");
  });

  it("counts a timeout as a failure", async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      coolDownMs: 5_000,
      now: scripted.deps.now,
    });
    server.enqueue({ kind: "delay", delayMs: 60_000 });
    const pending = backend({ circuitBreaker: breaker }).caption(captionRequest());
    await waitFor(() => server.requests.length === 1);
    scripted.expireAttempt();
    await captureError(pending);
    expect(breaker.state).toBe("open");
  });
});

describe("malformed responses", () => {
  const bodies: { name: string; body: string; message: RegExp }[] = [
    { name: "non-JSON body", body: "<html>gateway</html>", message: /not JSON/ },
    {
      name: "missing choices",
      body: JSON.stringify({ object: "chat.completion" }),
      message: /choices/,
    },
    { name: "empty choices", body: JSON.stringify({ choices: [] }), message: /choices/ },
    {
      name: "null content",
      body: JSON.stringify({ choices: [{ index: 0, message: { content: null } }] }),
      message: /content/,
    },
    {
      name: "non-numeric usage",
      body: JSON.stringify({
        choices: [{ index: 0, message: { content: "a dog" } }],
        usage: { prompt_tokens: "600" },
      }),
      message: /prompt_tokens/,
    },
  ];

  for (const { name, body, message } of bodies) {
    it(`rejects ${name}`, async () => {
      server.enqueue({ kind: "raw", status: 200, body });
      const error = await captureError(backend().caption(captionRequest()));
      expect(error).toBeInstanceOf(BackendResponseError);
      expect((error as Error).message).toMatch(message);
      expect((error as BackendResponseError).httpStatus).toBe(502);
      expect(server.requests).toHaveLength(1);
    });
  }

  it("rejects fewer choices than n", async () => {
    server.enqueue({
      kind: "raw",
      status: 200,
      body: JSON.stringify({
        choices: [{ index: 0, message: { content: "a dog" }, finish_reason: "stop" }],
      }),
    });
    const error = await captureError(
      backend().caption(
        captionRequest({ do_sample: true, temperature: 0.7, num_return_sequences: 3 }),
      ),
    );
    expect(error).toBeInstanceOf(BackendResponseError);
    expect((error as Error).message).toMatch(/ignored n/);
  });

  it("keeps the image out of error excerpts", async () => {
    const echoed = `invalid image data:image/jpeg;base64,${"A".repeat(500)} in request`;
    server.enqueue({
      kind: "raw",
      status: 400,
      body: JSON.stringify({ error: { message: echoed } }),
    });
    const error = await captureError(backend().caption(captionRequest()));
    expect((error as BackendResponseError).excerpt).toBe("invalid image data:[image] in request");
  });
});

describe("successful captions", () => {
  it("returns beams best first, trimmed to num_return_sequences", async () => {
    const result = await backend().caption(
      captionRequest({ num_beams: 4, num_return_sequences: 2 }),
    );
    expect(result.captions).toHaveLength(2);
    expect(JSON.parse(server.requests[0]?.bodyText ?? "{}").n).toBe(4);
    expect(result.backend).toBe("vllm");
    expect(result.model).toBe("llava-hf/llava-1.5-7b-hf");
    expect(result.latencyMs).toBe(0);
  });

  it("returns trimmed text, finish reason and usage", async () => {
    const result = await backend().caption(captionRequest({ max_new_tokens: 3 }));
    const caption = result.captions[0];
    expect(caption?.text).toMatch(/^A \w+ \w+$/);
    expect(caption?.finishReason).toBe("length");
    expect(result.usage?.completionTokens).toBe(3);
    expect(result.usage?.promptTokens).toBeGreaterThanOrEqual(576);
    expect(result.warnings).toEqual([]);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Finds a loopback port with nothing listening by binding it, reading it and releasing it. */
async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port assigned");
  return address.port;
}
