// model "llava" inside workerd, with injected backends: the real OpenAI-compatible adapter over a
// fake fetch, and fakes that throw the adapters' typed errors.
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.ts";
import type { Bindings } from "../../functions/env.ts";
import {
  BackendOptionError,
  BackendTimeoutError,
  BackendUnavailableError,
  type CaptionBackend,
  OpenAIChatBackend,
} from "../../shared/llava/index.ts";
import { EDGE_FIXTURES } from "../fixtures/images/edge-fixtures.ts";

const JPEG_BASE64 = EDGE_FIXTURES[0]?.base64 as string;

let client = 0;
async function caption(
  backend: () => CaptionBackend,
  body: Record<string, unknown>,
): Promise<Response> {
  client++;
  const app = createApp({ llavaBackend: backend });
  const ctx = createExecutionContext();
  const response = await app.request(
    "/v1/captions",
    {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": `10.6.0.${client}` },
      body: JSON.stringify({ image_base64: JPEG_BASE64, model: "llava", ...body }),
    },
    env as unknown as Bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

function throwing(error: Error): () => CaptionBackend {
  return () => ({
    kind: "vllm",
    model: "llava-hf/llava-1.5-7b-hf",
    caption: async () => {
      throw error;
    },
  });
}

describe("model llava", () => {
  it("captions through the OpenAI-compatible adapter", async () => {
    const sent: { url: string; body: Record<string, unknown>; authorization: string | null }[] = [];
    const fakeFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      sent.push({
        url: String(input),
        body: JSON.parse(String(init?.body)) as Record<string, unknown>,
        authorization: new Headers(init?.headers).get("authorization"),
      });
      return Response.json({
        id: "chatcmpl-1",
        object: "chat.completion",
        model: "llava-hf/llava-1.5-7b-hf",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: " A small test image. " },
            finish_reason: "stop",
          },
        ],
        usage: { prompt_tokens: 600, completion_tokens: 5, total_tokens: 605 },
      });
    };
    const backend = () =>
      new OpenAIChatBackend({
        kind: "vllm",
        baseUrl: "http://llava.test:8000",
        apiKey: "backend-key",
        fetch: fakeFetch,
      });

    const response = await caption(backend, { max_new_tokens: 12, instruction: "Describe it." });

    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      model: { id: string; backend: string; sha256: null };
      captions: { text: string; finish_reason: string; score: null }[];
      usage: { prompt_tokens: number };
      image: { width: number };
    };
    expect(body.model).toMatchObject({ id: "llava", backend: "vllm", sha256: null });
    expect(body.captions).toEqual([
      { text: "A small test image.", score: null, finish_reason: "stop", tokens: [] },
    ]);
    expect(body.usage.prompt_tokens).toBe(600);
    expect(body.image.width).toBe(64);
    expect(sent[0]?.url).toBe("http://llava.test:8000/v1/chat/completions");
    expect(sent[0]?.authorization).toBe("Bearer backend-key");
    expect(sent[0]?.body.max_tokens).toBe(12);
    const messages = (sent[0]?.body.messages ?? []) as {
      content: { type: string; image_url?: { url: string }; text?: string }[];
    }[];
    const content = messages[0]?.content;
    expect(content?.[0]?.image_url?.url.startsWith("data:image/jpeg;base64,")).toBe(true);
    expect(content?.[1]?.text).toBe("Describe it.");
  });

  it("rejects ONNX-only options, naming them", async () => {
    const response = await caption(throwing(new Error("not called")), {
      attention: true,
      no_repeat_ngram_size: 2,
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((error) => error.path)).toEqual([
      "/attention",
      "/no_repeat_ngram_size",
    ]);
  });

  it("maps unsupported backend options to 400", async () => {
    const error = new BackendOptionError("workers-ai", [
      { option: "num_beams", value: 3, reason: "Workers AI has no beam search" },
    ]);
    const response = await caption(throwing(error), { num_beams: 3 });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string; message: string }[] };
    expect(problem.errors[0]).toEqual({
      path: "/num_beams",
      message: "Workers AI has no beam search",
    });
  });

  it("maps a backend timeout to 504", async () => {
    const response = await caption(throwing(new BackendTimeoutError("vllm", 60_000)), {});
    expect(response.status).toBe(504);
    expect(((await response.json()) as { type: string }).type).toBe(
      "https://edgecap.dev/problems/backend-timeout",
    );
  });

  it("maps an unavailable backend to 502 with Retry-After", async () => {
    const error = new BackendUnavailableError("vllm", {
      reason: "circuit_open",
      retryAfterMs: 30_000,
    });
    const response = await caption(throwing(error), {});
    expect(response.status).toBe(502);
    expect(response.headers.get("retry-after")).toBe("30");
    expect(((await response.json()) as { type: string }).type).toBe(
      "https://edgecap.dev/problems/backend-unavailable",
    );
  });

  it("captions through the Workers AI binding", async () => {
    const calls: { model: string; inputs: Record<string, unknown> }[] = [];
    const ai = {
      run: async (model: string, inputs: Record<string, unknown>) => {
        calls.push({ model, inputs });
        return { description: " A small photo of a room." };
      },
    };
    const bindings = { ...(env as unknown as Bindings), LLAVA_BACKEND_KIND: "workers-ai", AI: ai };
    const response = await createApp().request(
      "/v1/captions",
      {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": "10.6.2.1" },
        body: JSON.stringify({ image_base64: JPEG_BASE64, model: "llava", max_new_tokens: 16 }),
      },
      bindings,
      createExecutionContext(),
    );

    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      model: { backend: string };
      captions: { text: string }[];
    };
    expect(body.model.backend).toBe("workers-ai");
    expect(body.captions[0]?.text).toBe("A small photo of a room.");
    expect(calls[0]?.model).toBe("@cf/llava-hf/llava-1.5-7b-hf");
    expect(calls[0]?.inputs.max_tokens).toBe(16);
  });

  it("answers 502 when no backend URL is configured", async () => {
    const response = await SELF.fetch("http://edgecap.test/v1/captions", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": "10.6.1.1" },
      body: JSON.stringify({ image_base64: JPEG_BASE64, model: "llava" }),
    });
    expect(response.status).toBe(502);
    expect(((await response.json()) as { detail: string }).detail).toContain("LLAVA_BASE_URL");
  });
});
