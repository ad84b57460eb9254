import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeDataUrl } from "../../../shared/llava/input.ts";
import { type FakeOpenAIServer, startFakeOpenAIServer } from "../../helpers/fake-openai-server.ts";
import { INSTRUCTION, JPEG_BYTES } from "./helpers.ts";

const MODEL = "llava-hf/llava-1.5-7b-hf";

function chatBody(
  overrides: Record<string, unknown> = {},
  imageUrl = encodeDataUrl("image/jpeg", JPEG_BYTES),
) {
  return {
    model: MODEL,
    messages: [
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: imageUrl } },
          { type: "text", text: INSTRUCTION },
        ],
      },
    ],
    max_tokens: 30,
    temperature: 0,
    n: 1,
    ...overrides,
  };
}

async function post(server: FakeOpenAIServer, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("fake server rejects like vLLM", () => {
  let server: FakeOpenAIServer;
  beforeAll(async () => {
    server = await startFakeOpenAIServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("returns a valid completion", async () => {
    const { status, body } = await post(server, chatBody());
    expect(status).toBe(200);
    expect(body.object).toBe("chat.completion");
    expect(body.model).toBe(MODEL);
  });

  it("returns 404 for an unknown model", async () => {
    const { status, body } = await post(server, chatBody({ model: "gpt-4o" }));
    expect(status).toBe(404);
    expect(body).toEqual({
      error: {
        message: "The model `gpt-4o` does not exist.",
        type: "NotFoundError",
        param: "model",
        code: 404,
      },
    });
  });

  it("returns 400 for missing messages", async () => {
    const { messages: _dropped, ...withoutMessages } = chatBody();
    const { status, body } = await post(server, withoutMessages);
    expect(status).toBe(400);
    const error = body.error as Record<string, unknown>;
    expect(error.type).toBe("BadRequestError");
    expect(error.code).toBe(400);
    expect(error.message).toMatch(/'messages'.*Field required/);
  });

  it("returns 400 for n > 1 with greedy sampling", async () => {
    const { status, body } = await post(server, chatBody({ n: 3 }));
    expect(status).toBe(400);
    expect(body.error).toEqual({
      message: "n must be 1 when using greedy sampling, got 3.",
      type: "BadRequestError",
      param: null,
      code: 400,
    });
  });

  it("returns 400 for top_p outside (0, 1]", async () => {
    const { status, body } = await post(server, chatBody({ temperature: 0.5, top_p: 0 }));
    expect(status).toBe(400);
    expect((body.error as Record<string, unknown>).param).toBe("top_p");
  });

  const invalidUrls: { name: string; url: string; message: RegExp }[] = [
    { name: "no comma", url: "data:image/jpeg;base64", message: /missing ','/ },
    { name: "not base64", url: "data:image/jpeg;utf8,hello", message: /Only base64 data URLs/ },
    { name: "broken base64", url: "data:image/jpeg;base64,@@@@", message: /invalid base64/ },
    {
      name: "not an image",
      url: `data:image/jpeg;base64,${btoa("plain text")}`,
      message: /cannot identify image/,
    },
    { name: "remote URL", url: "http://example.com/cat.jpg", message: /does not fetch/ },
  ];
  for (const { name, url, message } of invalidUrls) {
    it(`returns 400 for a data URL with ${name}`, async () => {
      const { status, body } = await post(server, chatBody({}, url));
      expect(status).toBe(400);
      expect((body.error as Record<string, unknown>).message).toMatch(message);
    });
  }

  it("returns 400 for two images", async () => {
    const body = chatBody();
    const content = body.messages[0]?.content ?? [];
    content.push(content[0] as (typeof content)[number]);
    const response = await post(server, body);
    expect(response.status).toBe(400);
    expect((response.body.error as Record<string, unknown>).message).toMatch(/At most 1 image/);
  });

  it("returns 400 for a body that is not JSON", async () => {
    const { status } = await post(server, "{not json");
    expect(status).toBe(400);
  });

  it("counts 576 image tokens in the prompt", async () => {
    const withImage = await post(server, chatBody());
    const usage = withImage.body.usage as Record<string, number>;
    expect(usage.prompt_tokens).toBeGreaterThan(576);
    expect(usage.total_tokens).toBe((usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0));
  });
});

describe("fake server error shapes and auth", () => {
  it("uses the flat shape in legacy mode", async () => {
    const legacy = await startFakeOpenAIServer({ errorShape: "legacy" });
    try {
      const { status, body } = await post(legacy, chatBody({ model: "other" }));
      expect(status).toBe(404);
      expect(body).toEqual({
        object: "error",
        message: "The model `other` does not exist.",
        type: "NotFoundError",
        param: "model",
        code: 404,
      });
    } finally {
      await legacy.close();
    }
  });

  it("returns 401 without the key", async () => {
    const guarded = await startFakeOpenAIServer({ apiKey: "k1" });
    try {
      expect((await post(guarded, chatBody())).status).toBe(401);
      expect((await post(guarded, chatBody(), { authorization: "Bearer k1" })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
