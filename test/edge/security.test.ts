// Limits and safety inside workerd: the rate limit (the simulated [[ratelimits]] binding), the API
// key of the cache-writing route, CORS for configured origins, the widget and report routes.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { embeddingCacheKey, encodeCachedTensor } from "../../shared/runtime/embedding-cache.ts";

const API_KEY = "edge-test-api-key";

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function entry(seed: number) {
  const key = embeddingCacheKey({
    kind: "clip-image",
    imageSha256: seed.toString(16).padStart(64, "0"),
    modelId: "edgecap-tiny-random-clip",
    modelSha256: "ab".repeat(32),
    preprocessingVersion: "1",
  });
  const value = encodeCachedTensor({
    dtype: "float32",
    dims: [4],
    data: Float32Array.from([seed, 1, 2, 3]),
  });
  return { key, value: bytesToBase64(value), base64: true, expiration_ttl: 3600 };
}

function putEmbeddings(body: unknown, headers: Record<string, string>): Promise<Response> {
  return SELF.fetch("http://edgecap.test/v1/embeddings", {
    method: "PUT",
    headers: { "content-type": "application/json", "cf-connecting-ip": "10.5.0.1", ...headers },
    body: JSON.stringify(body),
  });
}

describe("rate limit", () => {
  it("answers 429 with Retry-After once a client exceeds the limit", async () => {
    // The binding allows 120 requests per 60-second window. Windows align to the clock, so up to
    // two windows' worth of requests may pass before the limit shows.
    let limited: Response | undefined;
    for (let i = 0; i < 2 * 120 + 1 && limited === undefined; i++) {
      const response = await SELF.fetch("http://edgecap.test/v1/models", {
        headers: { "cf-connecting-ip": "10.5.9.9" },
      });
      if (response.status === 429) limited = response;
      else await response.arrayBuffer();
    }

    expect(limited?.status).toBe(429);
    expect(limited?.headers.get("retry-after")).toBe("60");
    expect(limited?.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await limited?.json()) as { type: string };
    expect(problem.type).toBe("https://edgecap.dev/problems/rate-limited");

    const other = await SELF.fetch("http://edgecap.test/v1/models", {
      headers: { "cf-connecting-ip": "10.5.9.10" },
    });
    expect(other.status).toBe(200);
  });
});

describe("PUT /v1/embeddings", () => {
  it("answers 401 without a token", async () => {
    const response = await putEmbeddings([entry(1)], {});
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await response.json()) as { type: string }).type).toBe(
      "https://edgecap.dev/problems/unauthorized",
    );
  });

  it("answers 403 for a wrong token", async () => {
    const response = await putEmbeddings([entry(1)], { authorization: "Bearer wrong-key" });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { type: string }).type).toBe(
      "https://edgecap.dev/problems/forbidden",
    );
  });

  it("stores valid entries in KV with the key", async () => {
    const first = entry(2);
    const response = await putEmbeddings([first], { authorization: `Bearer ${API_KEY}` });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ stored: 1 });
    const stored = await (env as unknown as { EMBEDDINGS: KVNamespaceLike }).EMBEDDINGS.get(
      first.key,
      "arrayBuffer",
    );
    expect(stored?.byteLength).toBeGreaterThan(16);
  });

  it("rejects values that are not edgecap tensors", async () => {
    const bad = { ...entry(3), value: btoa("not a tensor") };
    const response = await putEmbeddings([bad], { authorization: `Bearer ${API_KEY}` });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string }[] };
    expect(problem.errors[0]?.path).toBe("/0/value");
  });
});

interface KVNamespaceLike {
  get(key: string, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
}

describe("CORS", () => {
  it("allows a configured origin", async () => {
    const response = await SELF.fetch("http://edgecap.test/v1/captions", {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:4321",
        "access-control-request-method": "POST",
        "cf-connecting-ip": "10.5.1.1",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("http://localhost:4321");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("gives other origins no allow header", async () => {
    const response = await SELF.fetch("http://edgecap.test/v1/models", {
      headers: { origin: "https://evil.example", "cf-connecting-ip": "10.5.1.2" },
    });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("widget and report routes", () => {
  it("serves the widget or says it is not built", async () => {
    const response = await SELF.fetch("http://edgecap.test/widget.js");
    expect(response.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    if (response.status === 200) {
      expect(response.headers.get("content-type")).toContain("text/javascript");
    } else {
      expect(response.status).toBe(503);
      expect(((await response.json()) as { type: string }).type).toBe(
        "https://edgecap.dev/problems/not-built",
      );
    }
  });

  it("answers 404 problem+json for a missing report page", async () => {
    const response = await SELF.fetch("http://edgecap.test/report/no-such-page.html");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });
});
