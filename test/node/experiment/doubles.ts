// Deterministic stand-ins for the captioner, CLIP model and LLaVA backend, and helpers that write
// experiment configs over real COCO photos, for the experiment runner's tests. Every output depends
// only on the image bytes and the request, so two runs (or shards) of one config agree exactly.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CaptionModel, ClipModel, ModelFactories } from "../../../cli/experiment/models.ts";
import type { AttentionDocument } from "../../../shared/attention/schema.ts";
import { OWNER_DATA_DIR } from "../../helpers/paths.ts";

export const COCO_MINI = join(OWNER_DATA_DIR, "data", "coco-mini");
export const COCO_CAPTIONS = join(COCO_MINI, "annotations", "captions_val2017.json");
export const COCO_IMAGES = join(COCO_MINI, "val2017");

const SUBJECTS = ["man", "woman", "dog", "cat", "train", "plate of food", "group of people", "bus"];
const ACTIONS = ["sitting on", "standing next to", "riding", "looking at", "parked near"];
const PLACES = ["a table", "the street", "a bench", "a field", "the water"];

function digest(...parts: (Uint8Array | string)[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** Builds a caption from the hash of the image and the request, so it differs by image and config. */
function fakeCaption(image: Uint8Array, salt: string): string {
  const bytes = digest(image, salt);
  const subject = SUBJECTS[(bytes[0] as number) % SUBJECTS.length];
  const action = ACTIONS[(bytes[1] as number) % ACTIONS.length];
  const place = PLACES[(bytes[2] as number) % PLACES.length];
  return `A ${subject} ${action} ${place}.`;
}

function fakeAttention(
  modelId: string,
  imageId: string,
  caption: string,
  decoding: Record<string, unknown>,
): AttentionDocument {
  const words = caption.replace(/\.$/, "").split(" ");
  return {
    schema: "edgecap.attention/v1",
    model: { id: modelId, sha256: null, family: "prefix-gpt2" },
    image: { id: imageId, width: 640, height: 480, sha256: null },
    config: { ...decoding, instruction: null },
    grid: { rows: 2, cols: 2 },
    crop: { left: 80, top: 0, width: 480, height: 480 },
    layers: [0],
    sink_removed: false,
    hypotheses: [
      {
        rank: 0,
        caption,
        score: -1.5,
        tokens: words.map((text, index) => ({
          index,
          id: 100 + index,
          text,
          image_mass: 0.5,
          attention: [0.4, 0.3, 0.2, 0.1],
        })),
      },
    ],
  };
}

export interface FakeCaptionerOptions {
  /** Throw on the call after this many successful captions, as a crash would stop the run. */
  failAfter?: number;
}

export function fakeCaptioner(
  id: string,
  options: FakeCaptionerOptions = {},
): CaptionModel & { calls: number } {
  const model = {
    id,
    sha256: digest(id).toString("hex"),
    family: "prefix-gpt2" as const,
    calls: 0,
    async caption(image: Uint8Array, request: Parameters<CaptionModel["caption"]>[1]) {
      if (options.failAfter !== undefined && model.calls >= options.failAfter) {
        throw new Error(`simulated crash after ${options.failAfter} captions`);
      }
      model.calls++;
      const salt = JSON.stringify(request.decoding) + (request.instruction ?? "");
      const beams =
        typeof request.decoding.num_return_sequences === "number"
          ? request.decoding.num_return_sequences
          : 1;
      const captions = Array.from({ length: beams }, (_, k) => fakeCaption(image, `${salt}#${k}`));
      return {
        captions,
        attention: request.attention
          ? fakeAttention(id, request.imageId, captions[0] as string, request.decoding)
          : null,
        timings: { generate_ms: 1 },
      };
    },
  };
  return model;
}

/** Unit vector from a hash, 16 dimensions, with a shared offset so cosines spread over (0, 1). */
function fakeEmbedding(...parts: (Uint8Array | string)[]): Float32Array {
  const bytes = digest(...parts);
  const vector = new Float32Array(16);
  for (let i = 0; i < vector.length; i++) vector[i] = 1 + ((bytes[i] as number) - 128) / 100;
  return vector;
}

export function fakeClip(): ClipModel {
  return {
    id: "fake-clip",
    sha256: digest("fake-clip").toString("hex"),
    embedImage: async (image) => fakeEmbedding(image),
    embedTexts: async (texts) => texts.map((text) => fakeEmbedding(text.toLowerCase())),
  };
}

export function fakeFactories(options: FakeCaptionerOptions = {}): ModelFactories {
  return {
    captioner: async (packageDir) => fakeCaptioner(`fake-${packageDir.split("/").pop()}`, options),
    clip: async () => fakeClip(),
    llavaBackend: async () => {
      throw new Error("no LLaVA backend in these tests");
    },
  };
}

/** Creates a temporary folder with empty package folders that a config can name. */
export function workFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `edgecap-experiment-${prefix}-`));
  mkdirSync(join(dir, "demo-package"));
  mkdirSync(join(dir, "clip-package"));
  return dir;
}

/** Returns the config the runner tests share: 7 COCO photos, one fake captioner, four decoding configs. */
export function cocoConfig(
  dir: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    schema: "edgecap.experiment/v1",
    id: "test-grid",
    title: "runner test",
    datasets: [
      { id: "coco", label: "COCO photos", captions: COCO_CAPTIONS, images: COCO_IMAGES, limit: 7 },
    ],
    models: [
      {
        id: "demo",
        kind: "onnx",
        package: join(dir, "demo-package"),
        variant: { rank: 16, alpha: 32 },
      },
    ],
    decoding: [
      { id: "greedy", options: { max_new_tokens: 20 } },
      { id: "beam3", options: { num_beams: 3, num_return_sequences: 3 } },
      { id: "diverse4x2", options: { num_beams: 4, num_beam_groups: 2, diversity_penalty: 0.5 } },
      { id: "sampling", options: { do_sample: true, top_p: 0.9, temperature: 0.7, seed: 0 } },
    ],
    clip: { package: join(dir, "clip-package") },
    attention: { first: 2 },
    batchSize: 3,
    ...overrides,
  };
}

export function writeConfig(dir: string, name: string, config: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof config === "string" ? config : JSON.stringify(config, null, 1));
  return path;
}

/** Collects what a command writes to a stream. */
export function captureStream(): { write(text: string): boolean; text(): string } {
  const chunks: string[] = [];
  return {
    write(text: string) {
      chunks.push(text);
      return true;
    },
    text: () => chunks.join(""),
  };
}
