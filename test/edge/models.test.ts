// GET /v1/models and the OpenAPI document.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("GET /v1/models", () => {
  it("lists the packages with hashes and the llava entry", async () => {
    const response = await SELF.fetch("http://edgecap.test/v1/models", {
      headers: { "cf-connecting-ip": "10.4.0.1" },
    });
    expect(response.status).toBe(200);
    const { models } = (await response.json()) as {
      models: {
        id: string;
        kind: string;
        sha256: string | null;
        default: boolean;
        preprocessing: unknown;
        backend?: { configured: boolean };
      }[];
    };

    const captioner = models.find((model) => model.id === "edgecap-tiny-random");
    expect(captioner?.kind).toBe("captioner");
    expect(captioner?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(captioner?.preprocessing).toMatchObject({ size: 112 });
    const clip = models.find((model) => model.id === "edgecap-tiny-random-clip");
    expect(clip?.kind).toBe("clip");
    const llava = models.find((model) => model.id === "llava");
    expect(llava?.backend?.configured).toBe(false);
    expect(models.filter((model) => model.default && model.kind === "captioner")).toHaveLength(1);
  });
});

describe("GET /v1/openapi.json", () => {
  it("documents every route in OpenAPI 3.1", async () => {
    const response = await SELF.fetch("http://edgecap.test/v1/openapi.json", {
      headers: { "cf-connecting-ip": "10.4.0.2" },
    });
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };

    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths).sort()).toEqual([
      "/v1/captions",
      "/v1/clipscore",
      "/v1/embeddings",
      "/v1/metrics/caption",
      "/v1/models",
    ]);
    expect(document.paths["/v1/captions"]?.post).toBeDefined();
  });
});
