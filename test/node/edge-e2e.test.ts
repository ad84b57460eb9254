// End to end over HTTP: `npm start` (wrangler dev, offline, on an ephemeral loopback port) captions
// real COCO photos with attention and with streaming, scores the captions, and routes model llava
// to a fake OpenAI-compatible server on loopback. Before the start, `edgecap embeddings` and
// `wrangler kv bulk put --local` warm the local KV store with one photo's prefix embedding from
// the tiny-random package.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeServer, startEdgeServer } from "../helpers/edge-server.ts";
import { type FakeOpenAIServer, startFakeOpenAIServer } from "../helpers/fake-openai-server.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../helpers/paths.ts";

const COCO = join(OWNER_DATA_DIR, "data/coco-mini");
const PHOTOS = ["000000397133.jpg", "000000349860.jpg"];
/** The first photo of the folder in name order, the one `--limit 1` embeds. */
const WARMED_PHOTO = "000000000139.jpg";
const LLAVA_KEY = "fake-backend-key";

let server: EdgeServer;
let llava: FakeOpenAIServer;
const photos = new Map<string, Uint8Array<ArrayBuffer>>();

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  });
  expect(result.status, `${command} ${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0);
}

beforeAll(async () => {
  const persistDir = mkdtempSync(join(tmpdir(), "edgecap-state-"));
  const bulkFile = join(persistDir, "prefixes.json");
  run(process.execPath, [
    "cli/edgecap.mjs",
    "embeddings",
    "--dataset",
    join(COCO, "val2017"),
    "--model",
    "tiny-random",
    "--out",
    bulkFile,
    "--limit",
    "1",
  ]);
  run("npx", [
    "wrangler",
    "kv",
    "bulk",
    "put",
    bulkFile,
    "--binding",
    "EMBEDDINGS",
    "--local",
    "--persist-to",
    persistDir,
  ]);

  llava = await startFakeOpenAIServer({ apiKey: LLAVA_KEY });
  server = await startEdgeServer({
    persistDir,
    vars: { LLAVA_BASE_URL: llava.baseUrl, LLAVA_API_KEY: LLAVA_KEY, LLAVA_TIMEOUT_MS: "20000" },
  });
  for (const name of PHOTOS) {
    photos.set(name, new Uint8Array(await readFile(join(COCO, "val2017", name))));
  }
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await llava?.close();
});

interface CaptionBody {
  model: { id: string; sha256: string | null; backend?: string };
  image: { width: number; height: number };
  captions: { text: string; tokens: { id: number; text: string }[] }[];
  attention: {
    schema: string;
    image: { width: number };
    hypotheses: { tokens: { attention: number[]; image_mass: number }[] }[];
  } | null;
  cache: string;
}

function photoForm(name: string, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.append(
    "image",
    new Blob([photos.get(name) as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }),
    name,
  );
  for (const [field, value] of Object.entries(fields)) form.append(field, value);
  return form;
}

function parseSse(text: string): { event: string; data: string }[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== "")
    .map((block) => {
      let event = "message";
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      return { event, data: data.join("\n") };
    });
}

describe("edge service over HTTP", () => {
  it("captions a COCO photo with attention", async () => {
    const response = await fetch(`${server.baseUrl}/v1/captions`, {
      method: "POST",
      body: photoForm(PHOTOS[0] as string, { max_new_tokens: "8", attention: "true" }),
    });

    expect(response.status).toBe(200);
    const body = (await response.json()) as CaptionBody;
    expect(body.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(body.image).toEqual({ sha256: expect.any(String), width: 640, height: 427 });
    expect(body.captions[0]?.text.length).toBeGreaterThan(0);
    expect(body.attention?.schema).toBe("edgecap.attention/v1");
    const tokens = body.attention?.hypotheses[0]?.tokens ?? [];
    expect(tokens).toHaveLength(body.captions[0]?.tokens.length ?? -1);
    const sum = tokens[0]?.attention.reduce((total, value) => total + value, 0) ?? 0;
    expect(sum).toBeCloseTo(1, 3);
    expect(body.cache).toBe("miss");
  });

  it("answers a repeated photo from the KV cache", async () => {
    const response = await fetch(`${server.baseUrl}/v1/captions`, {
      method: "POST",
      body: photoForm(PHOTOS[0] as string, { max_new_tokens: "8" }),
    });
    expect(response.headers.get("x-edgecap-cache")).toBe("hit");
  });

  it("reads a prefix loaded with wrangler kv bulk put", async () => {
    const photo = await readFile(join(COCO, "val2017", WARMED_PHOTO));
    const response = await fetch(
      `${server.baseUrl}/v1/captions?max_new_tokens=3&model=tiny-random`,
      {
        method: "POST",
        headers: { "content-type": "image/jpeg" },
        body: photo,
      },
    );

    expect(response.status).toBe(200);
    expect(response.headers.get("x-edgecap-cache")).toBe("hit");
  });

  it("streams tokens as server-sent events", async () => {
    const image = Buffer.from(photos.get(PHOTOS[1] as string) as Uint8Array).toString("base64");
    const response = await fetch(`${server.baseUrl}/v1/captions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ image_base64: image, max_new_tokens: 6, stream: true }),
    });

    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = parseSse(await response.text());
    const tokenIds = events
      .filter((event) => event.event === "token")
      .map((event) => (JSON.parse(event.data) as { id: number }).id);
    const result = events.find((event) => event.event === "result");
    const body = JSON.parse(result?.data ?? "null") as CaptionBody;
    expect(tokenIds.length).toBeGreaterThan(0);
    expect(tokenIds).toEqual(body.captions[0]?.tokens.map((token) => token.id));
  });

  it("scores captions against the COCO references", async () => {
    const references = JSON.parse(
      await readFile(join(COCO, "annotations/captions_val2017.json"), "utf8"),
    ) as {
      images: { id: number; file_name: string }[];
      annotations: { image_id: number; caption: string }[];
    };
    const images = references.images.filter((image) => PHOTOS.includes(image.file_name));
    const ids = new Set(images.map((image) => image.id));
    const subset = {
      images,
      annotations: references.annotations.filter((annotation) => ids.has(annotation.image_id)),
    };
    // The first reference of each image as its prediction: a caption that must score well.
    const predictions = Object.fromEntries(
      images.map((image) => [
        image.file_name.replace(/\.jpg$/, ""),
        subset.annotations.find((annotation) => annotation.image_id === image.id)?.caption ?? "",
      ]),
    );

    const response = await fetch(`${server.baseUrl}/v1/metrics/caption`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ references: subset, predictions }),
    });

    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      image_count: number;
      corpus: { cider_d: number; bleu: number[] };
    };
    expect(body.image_count).toBe(2);
    expect(body.corpus.cider_d).toBeGreaterThan(0);
    expect(body.corpus.bleu[0]).toBeGreaterThan(0.5);
  });

  it("captions with llava through the configured backend", async () => {
    const response = await fetch(`${server.baseUrl}/v1/captions`, {
      method: "POST",
      body: photoForm(PHOTOS[1] as string, { model: "llava", max_new_tokens: "20" }),
    });

    expect(response.status).toBe(200);
    const body = (await response.json()) as CaptionBody;
    expect(body.model).toMatchObject({ id: "llava", backend: "vllm" });
    expect(body.captions[0]?.text.length).toBeGreaterThan(0);
    const sent = llava.requests.at(-1);
    expect(sent?.headers.authorization).toBe(`Bearer ${LLAVA_KEY}`);
  });

  it("logs request ids, models and cache status without image bytes", () => {
    const lines = server
      .output()
      .split("\n")
      .filter((line) => line.includes('"msg":"request"'))
      .map((line) => JSON.parse(line.slice(line.indexOf("{"))) as Record<string, unknown>);
    const captionLines = lines.filter((line) => line.path === "/v1/captions");
    expect(captionLines.length).toBeGreaterThanOrEqual(4);
    expect(captionLines.every((line) => typeof line.request_id === "string")).toBe(true);
    expect(captionLines.some((line) => line.cache === "hit")).toBe(true);
    expect(captionLines.some((line) => line.model === "llava")).toBe(true);
    const photoPrefix = Buffer.from(
      (photos.get(PHOTOS[1] as string) as Uint8Array).subarray(0, 48),
    ).toString("base64");
    expect(server.output()).not.toContain(photoPrefix);
    expect(server.output()).not.toContain(LLAVA_KEY);
  });
});
