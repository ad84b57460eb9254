import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../shared/llava/circuit-breaker.ts";
import { BackendOptionError } from "../../../shared/llava/errors.ts";
import {
  buildChatCompletionBody,
  chatCompletionsUrl,
  OpenAIChatBackend,
} from "../../../shared/llava/openai-chat.ts";
import { CHAT_BACKEND_KINDS } from "../../../shared/llava/options.ts";
import type { CaptionGeneration, ChatBackendKind } from "../../../shared/llava/types.ts";
import { type FakeOpenAIServer, startFakeOpenAIServer } from "../../helpers/fake-openai-server.ts";
import { captionRequest, collectingLogger, GREEDY, INSTRUCTION, scriptedDeps } from "./helpers.ts";

const MODEL = "llava-hf/llava-1.5-7b-hf";
const IMAGE_PART = {
  type: "image_url",
  image_url: { url: "data:image/jpeg;base64,/9j/4AAQSkZJRg==" },
};
const TEXT_PART = { type: "text", text: INSTRUCTION };

function bodyFor(kind: ChatBackendKind, generation: Partial<CaptionGeneration>) {
  return buildChatCompletionBody(kind, MODEL, captionRequest(generation)).body;
}

function rejectedOptions(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BackendOptionError);
    return (error as BackendOptionError).options.map((entry) => entry.option);
  }
  throw new Error("expected BackendOptionError");
}

describe("chat request body sent to the server", () => {
  let server: FakeOpenAIServer;

  beforeAll(async () => {
    server = await startFakeOpenAIServer({ apiKey: "secret-key-123" });
  });
  afterAll(async () => {
    await server.close();
  });

  it("is the exact greedy JSON with the bearer key", async () => {
    const backend = new OpenAIChatBackend({
      kind: "vllm",
      baseUrl: server.baseUrl,
      apiKey: "secret-key-123",
      circuitBreaker: new CircuitBreaker(),
      deps: scriptedDeps().deps,
      log: collectingLogger().log,
    });
    await backend.caption(captionRequest({ seed: 7, top_k: 5 }));

    const recorded = server.requests.at(-1);
    expect(recorded?.path).toBe("/v1/chat/completions");
    expect(recorded?.headers.authorization).toBe("Bearer secret-key-123");
    expect(recorded?.headers["content-type"]).toBe("application/json");
    expect(recorded?.bodyText).toBe(
      JSON.stringify({
        model: MODEL,
        messages: [{ role: "user", content: [IMAGE_PART, TEXT_PART] }],
        max_tokens: 30,
        temperature: 0,
        top_p: 1,
        n: 1,
      }),
    );
  });

  it("sends no authorization header without a key", async () => {
    const open = await startFakeOpenAIServer();
    try {
      const backend = new OpenAIChatBackend({
        kind: "openai-compatible",
        baseUrl: `${open.baseUrl}/v1/`,
        circuitBreaker: new CircuitBreaker(),
        log: collectingLogger().log,
      });
      await backend.caption(captionRequest());
      expect(open.requests[0]?.path).toBe("/v1/chat/completions");
      expect(open.requests[0]?.headers.authorization).toBeUndefined();
    } finally {
      await open.close();
    }
  });
});

describe("sampling field mapping", () => {
  it("maps vllm sampling with every extra", () => {
    const body = bodyFor("vllm", {
      do_sample: true,
      temperature: 0.7,
      top_p: 0.9,
      top_k: 40,
      seed: 3,
      num_return_sequences: 2,
      min_new_tokens: 5,
      repetition_penalty: 1.2,
    });
    expect(JSON.stringify(body)).toBe(
      JSON.stringify({
        model: MODEL,
        messages: [{ role: "user", content: [IMAGE_PART, TEXT_PART] }],
        max_tokens: 30,
        temperature: 0.7,
        top_p: 0.9,
        n: 2,
        seed: 3,
        top_k: 40,
        min_tokens: 5,
        repetition_penalty: 1.2,
      }),
    );
  });

  it("maps vllm beam search to use_beam_search", () => {
    const body = bodyFor("vllm", {
      num_beams: 5,
      num_return_sequences: 3,
      length_penalty: 0.8,
      seed: 1,
    });
    const { model, messages, ...fields } = body;
    expect(fields).toEqual({
      max_tokens: 30,
      temperature: 0,
      n: 5,
      use_beam_search: true,
      length_penalty: 0.8,
    });
    expect(Object.keys(fields)).toEqual([
      "max_tokens",
      "temperature",
      "n",
      "use_beam_search",
      "length_penalty",
    ]);
  });

  it("drops sampling-only options in greedy search", () => {
    const body = bodyFor("ollama", { top_k: 50, seed: 9, temperature: 0.3, top_p: 0.5 });
    expect(body.temperature).toBe(0);
    expect(body.top_p).toBe(1);
    expect(body).not.toHaveProperty("top_k");
    expect(body).not.toHaveProperty("seed");
  });

  it("maps llamacpp repetition penalty to repeat_penalty", () => {
    const body = bodyFor("llamacpp", {
      do_sample: true,
      temperature: 0.8,
      top_k: 20,
      repetition_penalty: 1.1,
    });
    expect(body.top_k).toBe(20);
    expect(body.repeat_penalty).toBe(1.1);
    expect(body.repeat_last_n).toBe(-1);
    expect(body).not.toHaveProperty("repetition_penalty");
  });

  it("maps sglang extras like vllm", () => {
    const body = bodyFor("sglang", {
      do_sample: true,
      temperature: 0.8,
      top_k: 20,
      min_new_tokens: 2,
      repetition_penalty: 1.1,
    });
    expect(body.top_k).toBe(20);
    expect(body.min_tokens).toBe(2);
    expect(body.repetition_penalty).toBe(1.1);
  });

  it("omits neutral values of unsupported options", () => {
    for (const kind of CHAT_BACKEND_KINDS) {
      const body = bodyFor(kind, {
        do_sample: true,
        temperature: 0.5,
        top_k: 0,
        repetition_penalty: 1,
        min_new_tokens: 0,
      });
      expect(body, kind).not.toHaveProperty("top_k");
      expect(body, kind).not.toHaveProperty("repetition_penalty");
      expect(body, kind).not.toHaveProperty("min_tokens");
    }
  });
});

describe("unsupported options per backend kind", () => {
  const cases: {
    kind: ChatBackendKind;
    generation: Partial<CaptionGeneration>;
    rejected: string[];
  }[] = [
    { kind: "openai-compatible", generation: { do_sample: true, top_k: 40 }, rejected: ["top_k"] },
    { kind: "ollama", generation: { do_sample: true, top_k: 40 }, rejected: ["top_k"] },
    {
      kind: "ollama",
      generation: { do_sample: true, num_return_sequences: 2 },
      rejected: ["num_return_sequences"],
    },
    {
      kind: "llamacpp",
      generation: { do_sample: true, num_return_sequences: 2 },
      rejected: ["num_return_sequences"],
    },
    { kind: "llamacpp", generation: { min_new_tokens: 3 }, rejected: ["min_new_tokens"] },
    {
      kind: "openai-compatible",
      generation: { repetition_penalty: 1.3 },
      rejected: ["repetition_penalty"],
    },
    { kind: "sglang", generation: { num_beams: 3 }, rejected: ["num_beams"] },
    { kind: "llamacpp", generation: { num_beams: 3 }, rejected: ["num_beams"] },
    { kind: "ollama", generation: { num_beams: 3 }, rejected: ["num_beams"] },
    { kind: "openai-compatible", generation: { num_beams: 3 }, rejected: ["num_beams"] },
    {
      kind: "vllm",
      generation: { num_beams: 3, min_new_tokens: 2, repetition_penalty: 1.2 },
      rejected: ["min_new_tokens", "repetition_penalty"],
    },
    { kind: "vllm", generation: { do_sample: true, temperature: 2.5 }, rejected: ["temperature"] },
    {
      kind: "ollama",
      generation: { do_sample: true, top_k: 10, repetition_penalty: 1.2, min_new_tokens: 1 },
      rejected: ["top_k", "min_new_tokens", "repetition_penalty"],
    },
  ];

  for (const { kind, generation, rejected } of cases) {
    it(`${kind} rejects ${rejected.join(", ")}`, () => {
      expect(rejectedOptions(() => bodyFor(kind, generation))).toEqual(rejected);
    });
  }

  it("names the backend and the fix in the message", () => {
    try {
      bodyFor("ollama", { do_sample: true, top_k: 40 });
    } catch (error) {
      expect((error as Error).message).toContain("ollama");
      expect((error as Error).message).toContain("top_k=40");
      expect((error as BackendOptionError).httpStatus).toBe(400);
      expect((error as BackendOptionError).backend).toBe("ollama");
    }
  });
});

describe("invalid generation options", () => {
  const cases: { generation: Partial<CaptionGeneration>; rejected: string[] }[] = [
    { generation: { max_new_tokens: 0 }, rejected: ["max_new_tokens"] },
    { generation: { max_new_tokens: 2.5 }, rejected: ["max_new_tokens"] },
    { generation: { do_sample: true, temperature: 0 }, rejected: ["temperature"] },
    { generation: { temperature: -1 }, rejected: ["temperature"] },
    { generation: { top_p: 0 }, rejected: ["top_p"] },
    { generation: { top_p: 1.5 }, rejected: ["top_p"] },
    { generation: { top_k: -1 }, rejected: ["top_k"] },
    { generation: { seed: -3 }, rejected: ["seed"] },
    { generation: { repetition_penalty: 0 }, rejected: ["repetition_penalty"] },
    { generation: { min_new_tokens: 31 }, rejected: ["min_new_tokens"] },
    { generation: { num_return_sequences: 2 }, rejected: ["num_return_sequences"] },
    { generation: { num_beams: 2, num_return_sequences: 3 }, rejected: ["num_return_sequences"] },
    { generation: { num_beams: 2, do_sample: true }, rejected: ["num_beams"] },
    { generation: { num_beams: 0 }, rejected: ["num_beams"] },
  ];

  for (const { generation, rejected } of cases) {
    it(`rejects ${JSON.stringify(generation)}`, () => {
      expect(rejectedOptions(() => bodyFor("vllm", generation))).toEqual(rejected);
    });
  }

  it("rejects an empty image, a non-image type and a blank instruction", () => {
    const run = () =>
      buildChatCompletionBody("vllm", MODEL, {
        image: new Uint8Array(),
        mediaType: "text/plain",
        instruction: "  ",
        generation: GREEDY,
      });
    expect(rejectedOptions(run)).toEqual(["image", "mediaType", "instruction"]);
  });
});

describe("chat completions URL", () => {
  it("appends /v1/chat/completions once", () => {
    expect(chatCompletionsUrl("http://gpu:8000")).toBe("http://gpu:8000/v1/chat/completions");
    expect(chatCompletionsUrl("http://gpu:8000/")).toBe("http://gpu:8000/v1/chat/completions");
    expect(chatCompletionsUrl("http://gpu:8000/v1")).toBe("http://gpu:8000/v1/chat/completions");
    expect(chatCompletionsUrl("https://proxy.example/llava/")).toBe(
      "https://proxy.example/llava/v1/chat/completions",
    );
  });

  it("rejects a non-HTTP URL", () => {
    expect(() => chatCompletionsUrl("ftp://gpu")).toThrow(/http or https/);
    expect(() => chatCompletionsUrl("gpu:8000")).toThrow(/http or https/);
    expect(() => chatCompletionsUrl("not a url")).toThrow(/not a URL/);
  });
});
