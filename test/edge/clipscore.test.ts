// POST /v1/clipscore inside workerd with the tiny random CLIP package.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EDGE_FIXTURES } from "../fixtures/images/edge-fixtures.ts";

const JPEG_BASE64 = EDGE_FIXTURES[0]?.base64 as string;

let client = 0;
function post(body: unknown): Promise<Response> {
  client++;
  return SELF.fetch("http://edgecap.test/v1/clipscore", {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": `10.3.0.${client}` },
    body: JSON.stringify(body),
  });
}

interface ClipBody {
  model: { id: string; sha256: string };
  cache: string;
  prefix: string;
  clip_score: number;
  ref_clip_score?: number;
  pairs: { caption: string; clip_score: number; ref_clip_score?: number }[];
}

describe("POST /v1/clipscore", () => {
  it("scores each caption and averages", async () => {
    const response = await post({
      image_base64: JPEG_BASE64,
      captions: ["a living room", "a bear in the grass"],
    });

    expect(response.status).toBe(200);
    const body = (await response.json()) as ClipBody;
    expect(body.model.id).toBe("edgecap-demo-clip");
    expect(body.prefix).toBe("");
    expect(body.pairs).toHaveLength(2);
    for (const pair of body.pairs) {
      expect(pair.clip_score).toBeGreaterThanOrEqual(0);
      expect(pair.clip_score).toBeLessThanOrEqual(2.5);
    }
    const mean = ((body.pairs[0]?.clip_score ?? 0) + (body.pairs[1]?.clip_score ?? 0)) / 2;
    expect(body.clip_score).toBeCloseTo(mean, 10);
    expect(body.ref_clip_score).toBeUndefined();
  });

  it("adds RefCLIPScore with references and reuses the cached image embedding", async () => {
    const request = {
      image_base64: JPEG_BASE64,
      captions: ["a living room"],
      references: ["a room with a television", "two chairs and a tv"],
    };
    await post(request);
    const response = await post(request);

    const body = (await response.json()) as ClipBody;
    expect(body.cache).toBe("hit");
    expect(body.ref_clip_score).toBeGreaterThanOrEqual(0);
    expect(body.pairs[0]?.ref_clip_score).toBe(body.ref_clip_score);
  });

  it("rejects a request without captions", async () => {
    const response = await post({ image_base64: JPEG_BASE64 });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string }[] };
    expect(problem.errors[0]?.path).toBe("/captions");
  });

  it("rejects image_url", async () => {
    const response = await post({ image_url: "http://127.0.0.1/x.jpg", captions: ["x"] });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toContain("never fetches");
  });
});
