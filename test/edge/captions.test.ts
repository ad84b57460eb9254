// POST /v1/captions inside workerd, with the tiny random captioner read from the static assets.
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EDGE_FIXTURES } from "../fixtures/images/edge-fixtures.ts";

const JPEG_BASE64 = EDGE_FIXTURES[0]?.base64 as string;
const PNG_BASE64 = EDGE_FIXTURES[1]?.base64 as string;
const JPEG = Uint8Array.from(atob(JPEG_BASE64), (c) => c.charCodeAt(0));

// A distinct client address per request keeps these tests clear of the rate limit.
let client = 0;
function clientHeaders(extra: Record<string, string> = {}): Record<string, string> {
  client++;
  return { "cf-connecting-ip": `10.1.${client >> 8}.${client & 255}`, ...extra };
}

function postJson(body: unknown, path = "/v1/captions"): Promise<Response> {
  return SELF.fetch(`http://edgecap.test${path}`, {
    method: "POST",
    headers: clientHeaders({ "content-type": "application/json" }),
    body: JSON.stringify(body),
  });
}

function postRaw(bytes: Uint8Array, contentType: string, query = ""): Promise<Response> {
  return SELF.fetch(`http://edgecap.test/v1/captions${query}`, {
    method: "POST",
    headers: clientHeaders({ "content-type": contentType }),
    body: bytes,
  });
}

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

async function expectProblem(response: Response, status: number, kind: string): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = (await response.json()) as Problem;
  expect(problem.type).toBe(`https://edgecap.dev/problems/${kind}`);
  expect(problem.status).toBe(status);
  return problem;
}

/** Builds a PNG signature and IHDR that declare width x height, with no pixel data. */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set([0x49, 0x48, 0x44, 0x52], 12);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes[24] = 8;
  bytes[25] = 2;
  return bytes;
}

interface CaptionBody {
  model: { id: string; sha256: string; kind: string };
  image: { sha256: string; width: number; height: number };
  strategy: string;
  captions: {
    text: string;
    score: number;
    finish_reason: string;
    tokens: { id: number; text: string; logprob: number }[];
  }[];
  attention: {
    schema: string;
    grid: { rows: number; cols: number };
    hypotheses: { tokens: { attention: number[] }[] }[];
  } | null;
  cache: string;
  timings: Record<string, number>;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("POST /v1/captions", () => {
  it("captions a multipart upload", async () => {
    const form = new FormData();
    form.append("image", new Blob([JPEG], { type: "image/jpeg" }), "photo.jpg");
    form.append("max_new_tokens", "5");
    const response = await SELF.fetch("http://edgecap.test/v1/captions", {
      method: "POST",
      headers: clientHeaders(),
      body: form,
    });

    expect(response.status).toBe(200);
    const body = (await response.json()) as CaptionBody;
    expect(body.model.id).toBe("edgecap-demo-captioner");
    expect(body.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(body.image).toMatchObject({ width: 64, height: 48 });
    expect(body.strategy).toBe("greedy");
    expect(body.captions).toHaveLength(1);
    expect(body.captions[0]?.tokens.length).toBeGreaterThan(0);
    expect(body.captions[0]?.tokens.length).toBeLessThanOrEqual(5);
    expect(body.attention).toBeNull();
    expect(["hit", "miss"]).toContain(body.cache);
    expect(body.timings.steps).toBeGreaterThan(0);
  });

  it("captions a raw body with query options", async () => {
    const response = await postRaw(
      JPEG,
      "image/jpeg",
      "?max_new_tokens=4&num_beams=2&num_return_sequences=2",
    );

    expect(response.status).toBe(200);
    const body = (await response.json()) as CaptionBody;
    expect(body.strategy).toBe("beam_search");
    expect(body.captions).toHaveLength(2);
  });

  it("captions base64 JSON with attention grids", async () => {
    const response = await postJson({
      image_base64: PNG_BASE64,
      max_new_tokens: 3,
      attention: true,
    });

    expect(response.status).toBe(200);
    const body = (await response.json()) as CaptionBody;
    expect(body.attention?.schema).toBe("edgecap.attention/v1");
    expect(body.attention?.grid).toEqual({ rows: 14, cols: 14 });
    const firstToken = body.attention?.hypotheses[0]?.tokens[0];
    expect(firstToken?.attention).toHaveLength(14 * 14);
  });

  it("second request for an image hits the KV cache", async () => {
    // A fresh image (one changed byte after the JPEG end marker) so earlier tests cannot have cached it.
    const unique = new Uint8Array(JPEG.length + 1);
    unique.set(JPEG);
    unique[JPEG.length] = 7;
    const first = await postRaw(unique, "image/jpeg", "?max_new_tokens=2");
    const second = await postRaw(unique, "image/jpeg", "?max_new_tokens=2");

    expect(first.headers.get("x-edgecap-cache")).toBe("miss");
    expect(second.headers.get("x-edgecap-cache")).toBe("hit");
    const [a, b] = [(await first.json()) as CaptionBody, (await second.json()) as CaptionBody];
    expect(b.cache).toBe("hit");
    expect(b.captions[0]?.text).toBe(a.captions[0]?.text);
  });

  it("streams greedy tokens as server-sent events", async () => {
    const response = await postJson({ image_base64: JPEG_BASE64, max_new_tokens: 4, stream: true });

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = parseSse(await response.text());
    const tokens = events.filter((event) => event.event === "token");
    const results = events.filter((event) => event.event === "result");
    expect(results).toHaveLength(1);
    const result = JSON.parse(results[0]?.data as string) as CaptionBody;
    expect(tokens.map((event) => (JSON.parse(event.data) as { id: number }).id)).toEqual(
      result.captions[0]?.tokens.map((token) => token.id),
    );
  });

  it("rejects streaming with beam search", async () => {
    const response = await postJson({ image_base64: JPEG_BASE64, num_beams: 3, stream: true });
    const problem = await expectProblem(response, 400, "validation-failed");
    expect(problem.detail).toContain("beam_search");
    expect(problem.errors?.[0]?.path).toBe("/stream");
  });

  it("rejects image_url with a 400 that says why", async () => {
    const response = await postJson({ image_url: "http://127.0.0.1:9/cat.jpg" });
    const problem = await expectProblem(response, 400, "invalid-request");
    expect(problem.detail).toContain("never fetches images from URLs");
    expect(problem.errors?.[0]?.path).toBe("/image_url");
  });

  it.each([
    ["num_beams", 99],
    ["max_new_tokens", 500],
    ["num_return_sequences", 20],
  ])("rejects %s = %d above the server bound", async (param, value) => {
    const response = await postJson({ image_base64: JPEG_BASE64, [param]: value });
    const problem = await expectProblem(response, 400, "validation-failed");
    expect(problem.errors?.[0]?.path).toBe(`/${param}`);
    expect(problem.detail).toContain(param);
  });

  it("rejects an unknown option by name", async () => {
    const response = await postJson({ image_base64: JPEG_BASE64, max_tokens: 5 });
    const problem = await expectProblem(response, 400, "validation-failed");
    expect(problem.errors?.[0]?.path).toBe("/max_tokens");
  });

  it("rejects options the runtime finds invalid, naming the option", async () => {
    const response = await postJson({ image_base64: JPEG_BASE64, num_return_sequences: 2 });
    const problem = await expectProblem(response, 400, "validation-failed");
    expect(problem.errors?.[0]?.path).toBe("/num_return_sequences");
  });

  it("rejects an unknown model and lists the known ones", async () => {
    const response = await postJson({ image_base64: JPEG_BASE64, model: "gpt-9" });
    const problem = await expectProblem(response, 400, "validation-failed");
    expect(problem.detail).toContain("edgecap-tiny-random");
    expect(problem.detail).toContain("llava");
  });

  it("rejects HTML sent as image/jpeg with 415", async () => {
    const html = new TextEncoder().encode("<!doctype html><html><body>not an image</body></html>");
    const problem = await expectProblem(
      await postRaw(html, "image/jpeg"),
      415,
      "unsupported-media-type",
    );
    expect(problem.detail).toContain("HTML");
  });

  it("rejects a text/plain body with 415", async () => {
    await expectProblem(await postRaw(JPEG, "text/plain"), 415, "unsupported-media-type");
  });

  it("rejects a header above the pixel limit with 413 before decoding", async () => {
    const problem = await expectProblem(
      await postRaw(pngHeader(20_000, 20_000), "image/png"),
      413,
      "payload-too-large",
    );
    expect(problem.detail).toContain("20000x20000");
  });

  it("rejects a truncated JPEG with 422", async () => {
    const truncated = JPEG.subarray(0, 200);
    await expectProblem(await postRaw(truncated, "image/jpeg"), 422, "invalid-image");
  });

  it("rejects a body above the size limit with 413", async () => {
    const big = new Uint8Array(8 * 1024 * 1024 + 1);
    big.set(JPEG);
    const problem = await expectProblem(await postRaw(big, "image/jpeg"), 413, "payload-too-large");
    expect(problem.detail).toContain("8388608");
  });

  it("logs model and cache status but no image bytes", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const response = await postJson({ image_base64: JPEG_BASE64, max_new_tokens: 2 });
    expect(response.status).toBe(200);

    const requestLine = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => entry.msg === "request");
    expect(requestLine?.model).toBe("edgecap-demo-captioner");
    expect(["hit", "miss"]).toContain(requestLine?.cache);
    expect(requestLine?.request_id).toBe(response.headers.get("x-request-id"));
    expect(typeof requestLine?.ms).toBe("number");
    expect(lines.join("\n")).not.toContain(JPEG_BASE64.slice(0, 40));
  });
});

function parseSse(text: string): { event: string; data: string }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      return { event, data: data.join("\n") };
    });
}
