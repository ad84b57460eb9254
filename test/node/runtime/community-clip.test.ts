// The community-layout CLIP model (onnx/vision_model.onnx, onnx/text_model.onnx): parity with the
// PyTorch fixture through the ClipEmbedder interface, CLIPScore, caching and incomplete packages.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  directoryPackageSource,
  initNodeImageCodecs,
  loadNodeOrt,
} from "../../../cli/node-host.ts";
import { OnnxClip } from "../../../shared/runtime/clip-model.ts";
import { CommunityClip } from "../../../shared/runtime/community/clip.ts";
import { MemoryEmbeddingCache } from "../../../shared/runtime/embedding-cache.ts";
import { ModelPackageError } from "../../../shared/runtime/errors.ts";
import { loadClipPackage } from "../../../shared/runtime/load-package.ts";
import type { OrtApi } from "../../../shared/runtime/ort.ts";
import { memoryPackageSource } from "../../../shared/runtime/package-source.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../../helpers/paths.ts";

const PACKAGE_DIR = join(REPO_ROOT, "test/fixtures/community/clip-tiny-random");
const FIXTURE_DIR = join(REPO_ROOT, "test/fixtures/community/parity/clip-tiny-random");
const PHOTO = join(OWNER_DATA_DIR, "data/coco-mini/val2017/000000000139.jpg");

type Fixture = {
  tolerance: number;
  pixel_values_shape: number[];
  image_embeds: number[][];
  texts: string[];
  input_ids: number[][];
  text_embeds: number[][];
};

const fixture = JSON.parse(readFileSync(join(FIXTURE_DIR, "fixture.json"), "utf8")) as Fixture;

function unit(row: readonly number[]): number[] {
  const norm = Math.sqrt(row.reduce((sum, value) => sum + value * value, 0));
  return row.map((value) => value / norm);
}

function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < expected.length; i++) {
    max = Math.max(max, Math.abs((actual[i] as number) - (expected[i] as number)));
  }
  return max;
}

let ort: OrtApi;
let clip: CommunityClip;
let photo: Uint8Array;

beforeAll(async () => {
  await initNodeImageCodecs();
  ort = (await loadNodeOrt()).ort;
  clip = await CommunityClip.load(directoryPackageSource(PACKAGE_DIR), ort, {
    cache: new MemoryEmbeddingCache(),
  });
  photo = new Uint8Array(readFileSync(PHOTO));
});

describe("CommunityClip on the tiny random package", () => {
  it("image embeddings match PyTorch, normalised", async () => {
    const bytes = readFileSync(join(FIXTURE_DIR, "pixel_values.f32"));
    const pixels = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    const [embedding] = await clip.embedImages(pixels, 1);

    expect(
      maxAbsDifference(embedding as Float32Array, unit(fixture.image_embeds[0] as number[])),
    ).toBeLessThan(fixture.tolerance);
  });

  it("caption ids match the fixture's", () => {
    for (const [i, text] of fixture.texts.entries()) {
      expect(
        Array.from(clip.tokenizer.encodeClip(text, { contextLength: clip.contextLength })),
      ).toEqual(fixture.input_ids[i]);
    }
  });

  it("text embeddings match PyTorch, normalised", async () => {
    const embeddings = await clip.embedCaptions(fixture.texts);

    expect(embeddings).toHaveLength(fixture.texts.length);
    for (const [i, embedding] of embeddings.entries()) {
      expect(maxAbsDifference(embedding, unit(fixture.text_embeds[i] as number[]))).toBeLessThan(
        fixture.tolerance,
      );
    }
  });

  it("image bytes fill and hit the cache", async () => {
    const first = await clip.embedImageBytes(photo);
    const second = await clip.embedImageBytes(photo);

    expect(first.cache).toBe("miss");
    expect(second.cache).toBe("hit");
    expect(Array.from(second.embedding)).toEqual(Array.from(first.embedding));
  });

  it("CLIPScore is 2.5 times the clipped cosine", async () => {
    const { embedding } = await clip.embedImageBytes(photo);
    const [text] = await clip.embedCaptions(["a dog on a beach"]);
    let cosine = 0;
    for (let i = 0; i < embedding.length; i++) {
      cosine += (embedding[i] as number) * ((text as Float32Array)[i] as number);
    }
    const result = await clip.score([embedding], ["a dog on a beach"]);

    expect(result.clipScore).toBeCloseTo(2.5 * Math.max(cosine, 0), 6);
  });

  it("preprocessing follows preprocessor_config.json", () => {
    expect(clip.pipeline).toMatchObject({
      resize: { kind: "shorter_side", size: 112 },
      resample: "bicubic",
      crop: { width: 112, height: 112 },
      rescale: "multiply_reciprocal",
    });
  });
});

describe("loadClipPackage", () => {
  it("detects both layouts", async () => {
    const community = await loadClipPackage(directoryPackageSource(PACKAGE_DIR), ort);
    const edgecap = await loadClipPackage(
      directoryPackageSource(join(REPO_ROOT, "test/fixtures/packages/tiny-random-clip")),
      ort,
    );

    expect(community).toBeInstanceOf(CommunityClip);
    expect(edgecap).toBeInstanceOf(OnnxClip);
  });

  it("missing text graph names the file", async () => {
    const source = directoryPackageSource(PACKAGE_DIR);
    const broken = {
      location: "broken",
      readBytes: (name: string) =>
        name.endsWith("text_model.onnx") ? Promise.resolve(null) : source.readBytes(name),
    };
    const error = await loadClipPackage(broken, ort).catch((e) => e);

    expect(error).toBeInstanceOf(ModelPackageError);
    expect(error.file).toBe("onnx/text_model.onnx");
  });

  it("captioner config is rejected", async () => {
    const source = directoryPackageSource(PACKAGE_DIR);
    const error = await CommunityClip.load(
      memoryPackageSource("wrong", {
        "config.json": new TextEncoder().encode(
          JSON.stringify({ model_type: "vision-encoder-decoder" }),
        ),
        "preprocessor_config.json": (await source.readBytes(
          "preprocessor_config.json",
        )) as Uint8Array,
      }),
      ort,
    ).catch((e) => e);

    expect(error).toBeInstanceOf(ModelPackageError);
    expect(error.field).toBe("model_type");
  });
});
