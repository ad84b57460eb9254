import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  directoryPackageSource,
  initNodeImageCodecs,
  loadNodeOrt,
} from "../../../cli/node-host.ts";
import { attentionDocumentSchema } from "../../../shared/attention/schema.ts";
import { GenerationOptionsError } from "../../../shared/decoding/options.ts";
import { OnnxCaptioner } from "../../../shared/runtime/captioner.ts";
import { MemoryEmbeddingCache } from "../../../shared/runtime/embedding-cache.ts";
import { ModelPackageError } from "../../../shared/runtime/errors.ts";
import { memoryPackageSource } from "../../../shared/runtime/package-source.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../../helpers/paths.ts";

const PACKAGE_DIR = join(REPO_ROOT, "test/fixtures/packages/tiny-random");
const PHOTO = join(OWNER_DATA_DIR, "golden/preprocess/files/orig_000000000139.jpg");

let captioner: OnnxCaptioner;
let photo: Uint8Array;

beforeAll(async () => {
  await initNodeImageCodecs();
  const { ort } = await loadNodeOrt();
  captioner = await OnnxCaptioner.load(directoryPackageSource(PACKAGE_DIR), ort, {
    cache: new MemoryEmbeddingCache(),
  });
  photo = new Uint8Array(await readFile(PHOTO));
});

describe("OnnxCaptioner on the tiny random package", () => {
  it("greedy decoding returns one caption with tokens", async () => {
    const result = await captioner.caption(photo, { generation: { max_new_tokens: 6 } });

    expect(result.strategy).toBe("greedy");
    expect(result.captions).toHaveLength(1);
    const caption = result.captions[0];
    expect(caption?.tokens.length).toBeGreaterThan(0);
    expect(caption?.tokens.length).toBeLessThanOrEqual(6);
    expect(result.image).toMatchObject({ width: 640, height: 426 });
    expect(result.model.id).toBe("edgecap-tiny-random");
  });

  it("second caption of an image hits the prefix cache", async () => {
    const fresh = await OnnxCaptioner.load(
      directoryPackageSource(PACKAGE_DIR),
      (await loadNodeOrt()).ort,
      {
        cache: new MemoryEmbeddingCache(),
      },
    );
    const first = await fresh.caption(photo, { generation: { max_new_tokens: 3 } });
    const second = await fresh.caption(photo, { generation: { max_new_tokens: 3 } });

    expect(first.cache).toBe("miss");
    expect(second.cache).toBe("hit");
    expect(second.captions[0]?.text).toBe(first.captions[0]?.text);
  });

  it("beam search with width 1 equals greedy", async () => {
    const greedy = await captioner.caption(photo, { generation: { max_new_tokens: 5 } });
    const beam = await captioner.caption(photo, {
      generation: { max_new_tokens: 5, num_beams: 1 },
    });

    expect(beam.captions[0]?.tokens.map((t) => t.id)).toEqual(
      greedy.captions[0]?.tokens.map((t) => t.id),
    );
  });

  it("beam, diverse beam and sampling return the requested sequences", async () => {
    const beam = await captioner.caption(photo, {
      generation: { max_new_tokens: 5, num_beams: 3, num_return_sequences: 3 },
    });
    const diverse = await captioner.caption(photo, {
      generation: {
        max_new_tokens: 5,
        num_beams: 4,
        num_beam_groups: 2,
        diversity_penalty: 1,
        num_return_sequences: 2,
      },
    });
    const sampled = await captioner.caption(photo, {
      generation: {
        max_new_tokens: 5,
        do_sample: true,
        top_k: 20,
        top_p: 0.9,
        temperature: 0.8,
        seed: 7,
        num_return_sequences: 2,
      },
    });
    const resampled = await captioner.caption(photo, {
      generation: {
        max_new_tokens: 5,
        do_sample: true,
        top_k: 20,
        top_p: 0.9,
        temperature: 0.8,
        seed: 7,
        num_return_sequences: 2,
      },
    });

    expect(beam.strategy).toBe("beam_search");
    expect(beam.captions).toHaveLength(3);
    expect(diverse.strategy).toBe("diverse_beam_search");
    expect(diverse.captions).toHaveLength(2);
    expect(sampled.captions.map((c) => c.text)).toEqual(resampled.captions.map((c) => c.text));
  });

  it("attention maps follow the schema and the grid", async () => {
    const result = await captioner.caption(photo, {
      attention: true,
      imageId: "000000000139",
      generation: { max_new_tokens: 4, num_beams: 2, num_return_sequences: 2 },
    });
    const document = attentionDocumentSchema.parse(result.attention);

    expect(document.grid).toEqual({ rows: 14, cols: 14 });
    expect(document.image.id).toBe("000000000139");
    expect(document.hypotheses).toHaveLength(2);
    for (const hypothesis of document.hypotheses) {
      for (const token of hypothesis.tokens) {
        const sum = token.attention.reduce((a, b) => a + b, 0);
        expect(token.image_mass).toBeGreaterThan(0);
        expect(sum).toBeCloseTo(1, 4);
      }
    }
    // A 640 x 426 photo resized to 168 x 112 and centre-cropped to 112 keeps a centred square of
    // about 426 original pixels; the box is fractional because the resize is.
    expect(Math.abs(document.crop.height - 426)).toBeLessThan(1);
    expect(Math.abs(document.crop.width - 426)).toBeLessThan(1);
    expect(Math.abs(document.crop.left - (640 - document.crop.width) / 2)).toBeLessThan(1);
  });

  it("streams greedy tokens in order", async () => {
    const streamed: number[] = [];
    const result = await captioner.caption(photo, {
      generation: { max_new_tokens: 5 },
      onToken: (event) => streamed.push(event.tokenId),
    });

    expect(streamed).toEqual(result.captions[0]?.tokens.map((t) => t.id));
  });

  it("invalid decoding options raise GenerationOptionsError", async () => {
    await expect(
      captioner.caption(photo, { generation: { num_beams: 3, num_beam_groups: 2 } }),
    ).rejects.toBeInstanceOf(GenerationOptionsError);
  });
});

describe("model package validation", () => {
  it("missing manifest names the file", async () => {
    const { ort } = await loadNodeOrt();
    const load = OnnxCaptioner.load(memoryPackageSource("empty", {}), ort);

    await expect(load).rejects.toBeInstanceOf(ModelPackageError);
    await expect(load).rejects.toThrow(/manifest\.json/);
  });

  it("manifest without a decoder names the field", async () => {
    const { ort } = await loadNodeOrt();
    const manifest = JSON.parse(await readFile(join(PACKAGE_DIR, "manifest.json"), "utf8"));
    delete manifest.decoder;
    const source = memoryPackageSource("broken", {
      "manifest.json": new TextEncoder().encode(JSON.stringify(manifest)),
    });

    await expect(OnnxCaptioner.load(source, ort)).rejects.toThrow(/manifest\.json \(decoder\)/);
  });

  it("corrupted model file fails its sha256 check", async () => {
    const { ort } = await loadNodeOrt();
    const files: Record<string, Uint8Array> = {};
    for (const name of ["manifest.json", "vision.onnx", "decoder.onnx", "tokenizer.json"]) {
      files[name] = new Uint8Array(await readFile(join(PACKAGE_DIR, name)));
    }
    const vision = files["vision.onnx"] as Uint8Array;
    vision[vision.length - 1] = (vision[vision.length - 1] as number) ^ 0xff;

    await expect(OnnxCaptioner.load(memoryPackageSource("corrupt", files), ort)).rejects.toThrow(
      /vision\.onnx \(sha256\)/,
    );
  });
});
