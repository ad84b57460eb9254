// POST /v1/metrics/caption inside workerd: both prediction formats, problem+json for invalid
// documents, and the request limits.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

let client = 0;
function post(body: unknown, contentType = "application/json"): Promise<Response> {
  client++;
  return SELF.fetch("http://edgecap.test/v1/metrics/caption", {
    method: "POST",
    headers: { "content-type": contentType, "cf-connecting-ip": `10.2.0.${client}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const REFERENCES = {
  images: [
    { id: 139, file_name: "000000000139.jpg" },
    { id: 285, file_name: "000000000285.jpg" },
  ],
  annotations: [
    { image_id: 139, caption: "A living room with a television and two chairs." },
    { image_id: 139, caption: "A room with a tv, a table and a fireplace." },
    { image_id: 285, caption: "A large brown bear sitting in the grass." },
    { image_id: 285, caption: "A big bear sits on a green field." },
  ],
};

interface MetricsBody {
  format: string;
  image_count: number;
  metrics: string[];
  corpus: { bleu?: number[]; rouge_l?: number; cider_d?: number };
  per_image: { image_id: string; cider_d?: number }[];
  warnings: { code: string }[];
}

describe("POST /v1/metrics/caption", () => {
  it("scores homework-format predictions", async () => {
    const response = await post({
      references: REFERENCES,
      predictions: {
        "000000000139": "a living room with a television and chairs",
        "000000000285": "a brown bear sitting in the grass",
      },
    });

    expect(response.status).toBe(200);
    const body = (await response.json()) as MetricsBody;
    expect(body.format).toBe("homework");
    expect(body.image_count).toBe(2);
    expect(body.metrics).toEqual(["bleu", "rouge_l", "cider_d"]);
    expect(body.corpus.bleu).toHaveLength(4);
    expect(body.corpus.cider_d).toBeGreaterThan(0);
    expect(body.per_image.map((row) => row.image_id)).toEqual(["000000000139", "000000000285"]);
  });

  it("scores COCO results with the same scores", async () => {
    const homework = await post({
      references: REFERENCES,
      predictions: { "000000000139": "a tv in a room", "000000000285": "a bear on grass" },
    });
    const coco = await post({
      references: REFERENCES,
      predictions: [
        { image_id: 139, caption: "a tv in a room" },
        { image_id: 285, caption: "a bear on grass" },
      ],
    });

    const [a, b] = [(await homework.json()) as MetricsBody, (await coco.json()) as MetricsBody];
    expect(b.format).toBe("coco-results");
    expect(b.corpus).toEqual(a.corpus);
  });

  it("computes only the requested metrics", async () => {
    const response = await post({
      references: REFERENCES,
      predictions: { "000000000139": "a room", "000000000285": "a bear" },
      metrics: ["cider_d"],
    });
    const body = (await response.json()) as MetricsBody;
    expect(body.metrics).toEqual(["cider_d"]);
    expect(body.corpus.bleu).toBeUndefined();
  });

  it("returns every document problem as errors with pointers", async () => {
    const response = await post({
      references: REFERENCES,
      predictions: { "000000000139": 42 },
    });

    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await response.json()) as {
      type: string;
      errors: { path: string; message: string }[];
    };
    expect(problem.type).toBe("https://edgecap.dev/problems/validation-failed");
    const paths = problem.errors.map((error) => error.path);
    expect(paths).toContain("/predictions/000000000139");
    expect(paths.some((path) => path.startsWith("/predictions"))).toBe(true);
    expect(problem.errors.length).toBeGreaterThanOrEqual(2);
  });

  it("rejects a request without references", async () => {
    const response = await post({ predictions: { a: "b" } });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string }[] };
    expect(problem.errors[0]?.path).toBe("/references");
  });

  it("rejects malformed JSON with a problem", async () => {
    const response = await post("{not json");
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });

  it("reports where the JSON is malformed", async () => {
    const response = await post('{\n  "predictions": {"a": "b",}\n}');

    expect(response.status).toBe(400);
    const problem = (await response.json()) as { type: string; detail: string };
    expect(problem.type).toBe("https://edgecap.dev/problems/invalid-json");
    expect(problem.detail).toBe(
      "The request body is invalid JSON at line 2, column 27: trailing comma before the closing bracket.",
    );
  });

  it("rejects repeated prediction keys", async () => {
    const response = await post(
      `{"references": ${JSON.stringify(REFERENCES)}, "predictions": {"000000000139": "a room", "000000000139": "a tv", "000000000285": "a bear"}}`,
    );

    expect(response.status).toBe(400);
    const problem = (await response.json()) as {
      type: string;
      errors: { path: string; message: string }[];
    };
    expect(problem.type).toBe("https://edgecap.dev/problems/validation-failed");
    expect(problem.errors).toHaveLength(1);
    expect(problem.errors[0]?.path).toBe("/predictions/000000000139");
    expect(problem.errors[0]?.message).toContain('duplicate image name "000000000139"');
  });

  it("rejects a body that is not JSON with 415", async () => {
    const response = await post("{}", "text/plain");

    expect(response.status).toBe(415);
    const problem = (await response.json()) as { type: string; detail: string };
    expect(problem.type).toBe("https://edgecap.dev/problems/unsupported-media-type");
    expect(problem.detail).toContain('"text/plain"');
    expect(problem.detail).toContain("application/json");
  });

  it("names an unknown request field", async () => {
    const response = await post({ references: REFERENCES, predictions: {}, tokenise: false });

    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string; message: string }[] };
    expect(problem.errors[0]?.path).toBe("/tokenise");
    expect(problem.errors[0]?.message).toContain("tokenise is not a field of a metrics request");
  });

  it("rejects more images than the limit with 413", async () => {
    const images = Array.from({ length: 5001 }, (_, i) => ({ id: i, file_name: `${i}.jpg` }));
    const response = await post({ references: { images, annotations: [] }, predictions: {} });

    expect(response.status).toBe(413);
    const problem = (await response.json()) as { type: string; detail: string };
    expect(problem.type).toBe("https://edgecap.dev/problems/too-many-items");
    expect(problem.detail).toContain("5000");
  });
});
