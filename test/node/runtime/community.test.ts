// The community-layout captioner (optimum's VisionEncoderDecoder export): graph parity with the
// PyTorch fixture, the StepModel against PyTorch greedy decoding, caption() and attention maps,
// layout detection, and a ModelPackageError for each kind of incomplete package.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  directoryPackageSource,
  initNodeImageCodecs,
  loadNodeOrt,
} from "../../../cli/node-host.ts";
import { attentionDocumentSchema } from "../../../shared/attention/schema.ts";
import { generate } from "../../../shared/decoding/generate.ts";
import { preprocessImage } from "../../../shared/image/pipelines.ts";
import { OnnxCaptioner } from "../../../shared/runtime/captioner.ts";
import { CommunityCaptioner } from "../../../shared/runtime/community/captioner.ts";
import { CrossAttentionDecoderStep } from "../../../shared/runtime/community/cross-decoder-step.ts";
import { MemoryEmbeddingCache } from "../../../shared/runtime/embedding-cache.ts";
import { ModelPackageError } from "../../../shared/runtime/errors.ts";
import { loadCaptionerPackage } from "../../../shared/runtime/load-package.ts";
import type { OrtApi, Tensor } from "../../../shared/runtime/ort.ts";
import { memoryPackageSource } from "../../../shared/runtime/package-source.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../../helpers/paths.ts";

const PACKAGE_DIR = join(REPO_ROOT, "test/fixtures/community/vit-gpt2-tiny-random");
const SPLIT_ONNX_DIR = join(REPO_ROOT, "test/fixtures/community/vit-gpt2-tiny-random-split/onnx");
const SEQ2SEQ_ONNX_DIR = join(
  REPO_ROOT,
  "test/fixtures/community/vit-gpt2-tiny-random-seq2seq/onnx",
);
const EDGECAP_PACKAGE_DIR = join(REPO_ROOT, "test/fixtures/packages/tiny-random");
const FIXTURE_DIR = join(REPO_ROOT, "test/fixtures/community/parity/vit-gpt2-tiny-random");
const PHOTO = join(OWNER_DATA_DIR, "data/coco-mini/val2017/000000000139.jpg");
const END_OF_TEXT = 50256;

type LogitRow = {
  argmax: number;
  logsumexp: number;
  top_ids: number[];
  top_values: number[];
  probe_values: number[];
};

type Fixture = {
  tolerance: number;
  pixel_values_shape: number[];
  last_hidden_state_shape: number[];
  probe_ids: number[];
  steps: {
    input_ids: number[];
    use_cache_branch: boolean;
    logits_shape: number[];
    logits: LogitRow[];
    present_shape: number[];
    cross_attentions: number[][][][][];
  }[];
  greedy: { max_new_tokens: number; token_ids: number[] };
};

const fixture = JSON.parse(readFileSync(join(FIXTURE_DIR, "fixture.json"), "utf8")) as Fixture;

function readFloat32(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}

/** Reads every file under a folder, keyed by its path relative to the folder. */
function readFolder(folder: string): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(folder, path)] = new Uint8Array(readFileSync(path));
    }
  };
  walk(folder);
  return files;
}

function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < expected.length; i++) {
    max = Math.max(max, Math.abs((actual[i] as number) - (expected[i] as number)));
  }
  return max;
}

function logsumexp(row: Float32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of row) max = Math.max(max, value);
  let sum = 0;
  for (const value of row) sum += Math.exp(value - max);
  return max + Math.log(sum);
}

let ort: OrtApi;
let files: Record<string, Uint8Array>;
let captioner: CommunityCaptioner;
let photo: Uint8Array;

beforeAll(async () => {
  await initNodeImageCodecs();
  ort = (await loadNodeOrt()).ort;
  files = readFolder(PACKAGE_DIR);
  captioner = await CommunityCaptioner.load(directoryPackageSource(PACKAGE_DIR), ort, {
    cache: new MemoryEmbeddingCache(),
  });
  photo = new Uint8Array(readFileSync(PHOTO));
});

describe("community graphs against PyTorch", () => {
  it("encoder reproduces last_hidden_state", async () => {
    const encoder = await ort.InferenceSession.create(
      files["onnx/encoder_model.onnx"] as Uint8Array,
    );
    const pixels = readFloat32(join(FIXTURE_DIR, "pixel_values.f32"));
    const outputs = await encoder.run({
      pixel_values: new ort.Tensor("float32", pixels, fixture.pixel_values_shape),
    });
    const expected = readFloat32(join(FIXTURE_DIR, "last_hidden_state.f32"));

    expect(outputs.last_hidden_state?.dims).toEqual(fixture.last_hidden_state_shape);
    expect(
      maxAbsDifference(outputs.last_hidden_state?.data as Float32Array, expected),
    ).toBeLessThan(fixture.tolerance);
  });

  it("merged decoder reproduces every step", async () => {
    const decoder = await ort.InferenceSession.create(
      files["onnx/decoder_model_merged.onnx"] as Uint8Array,
    );
    const hidden = readFloat32(join(FIXTURE_DIR, "last_hidden_state.f32"));
    const tolerance = fixture.tolerance;
    let past: Record<string, Tensor> = {};
    for (const [index, step] of fixture.steps.entries()) {
      const feeds: Record<string, Tensor> = {
        input_ids: new ort.Tensor("int64", BigInt64Array.from(step.input_ids, BigInt), [
          1,
          step.input_ids.length,
        ]),
        encoder_hidden_states: new ort.Tensor("float32", hidden, fixture.last_hidden_state_shape),
        use_cache_branch: new ort.Tensor(
          "bool",
          new Uint8Array([step.use_cache_branch ? 1 : 0]),
          [1],
        ),
      };
      for (let layer = 0; layer < 2; layer++) {
        for (const kind of ["key", "value"]) {
          const name = `past_key_values.${layer}.${kind}`;
          feeds[name] =
            past[`present.${layer}.${kind}`] ??
            new ort.Tensor("float32", new Float32Array(0), [1, 2, 0, 16]);
        }
      }
      const outputs = await decoder.run(feeds);

      const logits = outputs.logits as Tensor;
      expect(logits.dims, `step ${index} logits shape`).toEqual(step.logits_shape);
      const vocab = step.logits_shape[2] as number;
      for (const [position, expected] of step.logits.entries()) {
        const row = (logits.data as Float32Array).subarray(
          position * vocab,
          (position + 1) * vocab,
        );
        const probes = fixture.probe_ids.map((id) => row[id] as number);
        const tops = expected.top_ids.map((id) => row[id] as number);
        expect(
          maxAbsDifference(probes, expected.probe_values),
          `step ${index} probes`,
        ).toBeLessThan(tolerance);
        expect(maxAbsDifference(tops, expected.top_values), `step ${index} top 10`).toBeLessThan(
          tolerance,
        );
        expect(
          Math.abs(logsumexp(row) - expected.logsumexp),
          `step ${index} logsumexp`,
        ).toBeLessThan(tolerance);
      }
      expect(outputs["present.0.key"]?.dims, `step ${index} present shape`).toEqual(
        step.present_shape,
      );
      for (let layer = 0; layer < 2; layer++) {
        const cross = outputs[`cross_attentions.${layer}`] as Tensor;
        const expected = step.cross_attentions[layer]?.flat(3) as number[];
        expect(
          maxAbsDifference(cross.data as Float32Array, expected),
          `step ${index} cross_attentions.${layer}`,
        ).toBeLessThan(tolerance);
      }
      past = outputs as Record<string, Tensor>;
    }
  });
});

describe("CrossAttentionDecoderStep", () => {
  const encoderStates = () => ({
    data: readFloat32(join(FIXTURE_DIR, "last_hidden_state.f32")),
    length: fixture.last_hidden_state_shape[1] as number,
    hidden: fixture.last_hidden_state_shape[2] as number,
  });
  const geometry = {
    numLayers: 2,
    numHeads: 2,
    headDim: 16,
    vocabSize: 50257,
    pastNaming: "self" as const,
    clsTokens: 1,
  };

  it("greedy ids equal PyTorch's on the merged graph", async () => {
    const merged = await ort.InferenceSession.create(
      files["onnx/decoder_model_merged.onnx"] as Uint8Array,
    );
    const step = new CrossAttentionDecoderStep(
      ort,
      { kind: "merged", merged },
      geometry,
      encoderStates(),
      false,
    );
    const result = await generate(step, {
      max_new_tokens: fixture.greedy.max_new_tokens,
      bos_token_id: END_OF_TEXT,
      eos_token_id: END_OF_TEXT,
    });

    expect(Array.from(result.sequences[0]?.tokenIds ?? [])).toEqual(fixture.greedy.token_ids);
  });

  it("greedy ids equal PyTorch's on the split graphs", async () => {
    const withoutPast = await ort.InferenceSession.create(
      new Uint8Array(readFileSync(join(SPLIT_ONNX_DIR, "decoder_model.onnx"))),
    );
    const withPast = await ort.InferenceSession.create(
      new Uint8Array(readFileSync(join(SPLIT_ONNX_DIR, "decoder_with_past_model.onnx"))),
    );
    const step = new CrossAttentionDecoderStep(
      ort,
      { kind: "split", withoutPast, withPast },
      geometry,
      encoderStates(),
      false,
    );
    const result = await generate(step, {
      max_new_tokens: fixture.greedy.max_new_tokens,
      bos_token_id: END_OF_TEXT,
      eos_token_id: END_OF_TEXT,
    });

    expect(Array.from(result.sequences[0]?.tokenIds ?? [])).toEqual(fixture.greedy.token_ids);
  });

  it("beam log-probabilities match a replay of each path", async () => {
    const merged = await ort.InferenceSession.create(
      files["onnx/decoder_model_merged.onnx"] as Uint8Array,
    );
    const states = encoderStates();
    const beam = await generate(
      new CrossAttentionDecoderStep(ort, { kind: "merged", merged }, geometry, states, false),
      {
        max_new_tokens: 5,
        num_beams: 3,
        num_return_sequences: 3,
        bos_token_id: END_OF_TEXT,
        eos_token_id: END_OF_TEXT,
      },
    );

    expect(beam.sequences).toHaveLength(3);
    for (const sequence of beam.sequences) {
      // One row through the same tokens: a wrong past gather during the beam search would give
      // the beam's tokens other log-probabilities than this replay.
      const replay = new CrossAttentionDecoderStep(
        ort,
        { kind: "merged", merged },
        geometry,
        states,
        false,
      );
      const ids = [END_OF_TEXT, ...sequence.tokenIds];
      for (let index = 0; index < sequence.tokenIds.length; index++) {
        const { logits } = await replay.step({
          tokenIds: Int32Array.of(ids[index] as number),
          beamIndices: null,
          stepIndex: index,
        });
        const expected = (logits[ids[index + 1] as number] as number) - logsumexp(logits);
        expect(sequence.tokenLogprobs[index]).toBeCloseTo(expected, 4);
      }
    }
  });

  it("first attention row averages heads and layers", async () => {
    const merged = await ort.InferenceSession.create(
      files["onnx/decoder_model_merged.onnx"] as Uint8Array,
    );
    const step = new CrossAttentionDecoderStep(
      ort,
      { kind: "merged", merged },
      geometry,
      encoderStates(),
      true,
    );
    const output = await step.step({
      tokenIds: Int32Array.of(END_OF_TEXT),
      beamIndices: null,
      stepIndex: 0,
    });

    // Step 0 of the fixture stores cross_attentions[layer][batch 0][head][position 0] over 197 keys, CLS first.
    const layers = fixture.steps[0]?.cross_attentions as number[][][][][];
    const expected = new Array<number>(196).fill(0);
    for (const layer of layers) {
      for (const head of layer[0] as number[][][]) {
        const row = head[0] as number[];
        for (let p = 0; p < 196; p++)
          expected[p] = (expected[p] as number) + (row[p + 1] as number) / 4;
      }
    }
    expect(output.attention).toHaveLength(196);
    expect(maxAbsDifference(output.attention as Float32Array, expected)).toBeLessThan(1e-6);
  });
});

describe("CommunityCaptioner on the tiny random package", () => {
  it("preprocessing matches transformers' ViTImageProcessor", async () => {
    const preprocessed = await preprocessImage(photo, captioner.pipeline);
    const expected = readFloat32(join(FIXTURE_DIR, "pixel_values.f32"));

    expect(preprocessed.shape).toEqual([3, 112, 112]);
    // PIL and edgecap's libjpeg-turbo decode and bilinear resize agree to within rounding of a
    // level; one level of 255 is 2/255 = 0.0078 after (x - 0.5) / 0.5.
    expect(maxAbsDifference(preprocessed.data, expected)).toBeLessThanOrEqual(2 / 255 + 1e-6);
  });

  it("greedy caption matches PyTorch's ids", async () => {
    const result = await captioner.caption(photo, {
      generation: { max_new_tokens: fixture.greedy.max_new_tokens },
    });

    expect(result.strategy).toBe("greedy");
    expect(result.captions).toHaveLength(1);
    expect(result.captions[0]?.tokens.map((token) => token.id)).toEqual(fixture.greedy.token_ids);
    expect(result.image).toMatchObject({ width: 640, height: 426 });
    expect(result.model.id).toBe("vit-gpt2-tiny-random");
    expect(result.model.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("generation_config.json sets the default length", async () => {
    const result = await captioner.caption(photo);

    expect(captioner.generation.defaults.max_new_tokens).toBe(20);
    expect(result.captions[0]?.tokens.length).toBeLessThanOrEqual(20);
    expect(result.timings.steps).toBeLessThanOrEqual(20);
  });

  it("second caption hits the encoder cache", async () => {
    const fresh = await CommunityCaptioner.load(directoryPackageSource(PACKAGE_DIR), ort, {
      cache: new MemoryEmbeddingCache(),
    });
    const first = await fresh.caption(photo, { generation: { max_new_tokens: 4 } });
    const second = await fresh.caption(photo, { generation: { max_new_tokens: 4 } });

    expect(first.cache).toBe("miss");
    expect(second.cache).toBe("hit");
    expect(second.captions[0]?.text).toBe(first.captions[0]?.text);
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
    const sampling = {
      max_new_tokens: 5,
      do_sample: true,
      top_k: 20,
      seed: 7,
      num_return_sequences: 2,
    };
    const sampled = await captioner.caption(photo, { generation: sampling });
    const resampled = await captioner.caption(photo, { generation: sampling });

    expect(beam.strategy).toBe("beam_search");
    expect(beam.captions).toHaveLength(3);
    expect(beam.captions[0]?.score).toBeGreaterThanOrEqual(beam.captions[2]?.score as number);
    expect(diverse.strategy).toBe("diverse_beam_search");
    expect(diverse.captions).toHaveLength(2);
    expect(sampled.captions.map((c) => c.text)).toEqual(resampled.captions.map((c) => c.text));
  });

  it("beam search with width 1 equals greedy", async () => {
    const greedy = await captioner.caption(photo, { generation: { max_new_tokens: 6 } });
    const beam = await captioner.caption(photo, {
      generation: { max_new_tokens: 6, num_beams: 1 },
    });

    expect(beam.captions[0]?.tokens.map((t) => t.id)).toEqual(
      greedy.captions[0]?.tokens.map((t) => t.id),
    );
  });

  it("attention maps follow the schema and each beam path", async () => {
    const result = await captioner.caption(photo, {
      attention: true,
      imageId: "000000000139",
      generation: { max_new_tokens: 4, num_beams: 3, num_return_sequences: 3 },
    });
    const document = attentionDocumentSchema.parse(result.attention);

    expect(document.grid).toEqual({ rows: 14, cols: 14 });
    expect(document.layers).toEqual([0, 1]);
    expect(document.hypotheses).toHaveLength(3);
    for (const [rank, hypothesis] of document.hypotheses.entries()) {
      expect(hypothesis.tokens.map((t) => t.id)).toEqual(
        result.captions[rank]?.tokens.map((t) => t.id),
      );
      for (const token of hypothesis.tokens) {
        expect(token.attention).toHaveLength(196);
        // Cross-attention is a softmax over the 197 encoder positions, so the patches hold
        // everything except the CLS share.
        expect(token.image_mass).toBeGreaterThan(0);
        expect(token.image_mass).toBeLessThanOrEqual(1 + 1e-5);
      }
    }
    // Every hypothesis starts from the same first step, so its first row is shared.
    expect(document.hypotheses[1]?.tokens[0]?.attention).toEqual(
      document.hypotheses[0]?.tokens[0]?.attention,
    );
  });

  it("greedy attention matches a replay of its own path", async () => {
    const result = await captioner.caption(photo, {
      attention: true,
      generation: { max_new_tokens: 3 },
    });
    const merged = await ort.InferenceSession.create(
      files["onnx/decoder_model_merged.onnx"] as Uint8Array,
    );
    const preprocessed = await preprocessImage(photo, captioner.pipeline);
    const encoder = await ort.InferenceSession.create(
      files["onnx/encoder_model.onnx"] as Uint8Array,
    );
    const hidden = (
      await encoder.run({
        pixel_values: new ort.Tensor("float32", preprocessed.data, [1, ...preprocessed.shape]),
      })
    ).last_hidden_state as Tensor;
    const step = new CrossAttentionDecoderStep(
      ort,
      { kind: "merged", merged },
      {
        numLayers: 2,
        numHeads: 2,
        headDim: 16,
        vocabSize: 50257,
        pastNaming: "self",
        clsTokens: 1,
      },
      { data: hidden.data as Float32Array, length: 197, hidden: 32 },
      true,
    );
    const ids = [END_OF_TEXT, ...(result.captions[0]?.tokens.map((t) => t.id) ?? [])];
    const tokens = result.attention?.hypotheses[0]?.tokens ?? [];
    for (const [index, token] of tokens.entries()) {
      const output = await step.step({
        tokenIds: Int32Array.of(ids[index] as number),
        beamIndices: null,
        stepIndex: index,
      });
      const row = output.attention as Float32Array;
      const sum = row.reduce((total, value) => total + value, 0);
      expect(token.image_mass).toBeCloseTo(sum, 5);
      expect(
        maxAbsDifference(
          token.attention,
          Array.from(row, (v) => v / sum),
        ),
      ).toBeLessThan(1e-5);
    }
  });
});

describe("loadCaptionerPackage", () => {
  it("detects the community layout", async () => {
    const loaded = await loadCaptionerPackage(directoryPackageSource(PACKAGE_DIR), ort);

    expect(loaded).toBeInstanceOf(CommunityCaptioner);
    expect(loaded.id).toBe("vit-gpt2-tiny-random");
  });

  it("detects an edgecap package", async () => {
    const loaded = await loadCaptionerPackage(directoryPackageSource(EDGECAP_PACKAGE_DIR), ort);

    expect(loaded).toBeInstanceOf(OnnxCaptioner);
    expect(loaded.id).toBe("edgecap-tiny-random");
  });

  it("loads ONNX files from the package root", async () => {
    const flat: Record<string, Uint8Array> = {};
    for (const [path, bytes] of Object.entries(files)) flat[path.replace(/^onnx\//, "")] = bytes;
    const loaded = await loadCaptionerPackage(memoryPackageSource("flat", flat), ort, {
      id: "flat",
    });
    const result = await loaded.caption(photo, {
      generation: { max_new_tokens: fixture.greedy.max_new_tokens },
    });

    expect(result.model.id).toBe("flat");
    expect(result.captions[0]?.tokens.map((t) => t.id)).toEqual(fixture.greedy.token_ids);
  });

  it("loads the split decoder pair", async () => {
    const split = { ...files };
    delete split["onnx/decoder_model_merged.onnx"];
    for (const name of ["decoder_model.onnx", "decoder_with_past_model.onnx"]) {
      split[`onnx/${name}`] = new Uint8Array(readFileSync(join(SPLIT_ONNX_DIR, name)));
    }
    const loaded = await loadCaptionerPackage(memoryPackageSource("split", split), ort);
    const result = await loaded.caption(photo, {
      attention: true,
      generation: { max_new_tokens: fixture.greedy.max_new_tokens },
    });

    expect(result.captions[0]?.tokens.map((t) => t.id)).toEqual(fixture.greedy.token_ids);
    expect(result.attention?.grid).toEqual({ rows: 14, cols: 14 });
  });

  it("loads seq2seq past names", async () => {
    const seq2seq = {
      ...files,
      "onnx/decoder_model_merged.onnx": new Uint8Array(
        readFileSync(join(SEQ2SEQ_ONNX_DIR, "decoder_model_merged.onnx")),
      ),
    };
    const loaded = await loadCaptionerPackage(memoryPackageSource("seq2seq", seq2seq), ort);
    const greedy = await loaded.caption(photo, {
      generation: { max_new_tokens: fixture.greedy.max_new_tokens },
    });
    // The same weights with GPT-2's names: beam search must pick the same paths and scores,
    // which it does only if the kept cross-attention past follows each beam.
    const request = {
      attention: true,
      generation: { max_new_tokens: 6, num_beams: 3, num_return_sequences: 3 },
    };
    const beams = await loaded.caption(photo, request);
    const reference = await captioner.caption(photo, request);

    expect(greedy.captions[0]?.tokens.map((t) => t.id)).toEqual(fixture.greedy.token_ids);
    expect(beams.captions.map((c) => c.tokens.map((t) => t.id))).toEqual(
      reference.captions.map((c) => c.tokens.map((t) => t.id)),
    );
    for (const [rank, caption] of beams.captions.entries()) {
      expect(caption.score).toBeCloseTo(reference.captions[rank]?.score as number, 4);
    }
    expect(beams.attention?.hypotheses[2]?.tokens.map((t) => t.image_mass)).toEqual(
      reference.attention?.hypotheses[2]?.tokens.map((t) => t.image_mass),
    );
  });

  it("rejects a folder without manifest or config", async () => {
    const error = await loadCaptionerPackage(memoryPackageSource("empty", {}), ort).catch((e) => e);

    expect(error).toBeInstanceOf(ModelPackageError);
    expect(error.message).toContain("config.json");
  });
});

describe("incomplete community packages", () => {
  const encodeJson = (value: unknown): Uint8Array =>
    new TextEncoder().encode(JSON.stringify(value));
  const json = (path: string): Record<string, unknown> =>
    JSON.parse(new TextDecoder().decode(files[path])) as Record<string, unknown>;

  async function loadError(
    change: (copy: Record<string, Uint8Array>) => void,
  ): Promise<ModelPackageError> {
    const copy = { ...files };
    change(copy);
    const error = await CommunityCaptioner.load(memoryPackageSource("broken", copy), ort).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelPackageError);
    return error as ModelPackageError;
  }

  it("missing encoder names the file", async () => {
    const error = await loadError((copy) => {
      delete copy["onnx/encoder_model.onnx"];
    });

    expect(error.file).toBe("onnx/encoder_model.onnx");
  });

  it("missing decoder names the merged file", async () => {
    const error = await loadError((copy) => {
      delete copy["onnx/decoder_model_merged.onnx"];
    });

    expect(error.file).toBe("onnx/decoder_model_merged.onnx");
  });

  it("decoder without its past graph", async () => {
    const error = await loadError((copy) => {
      copy["onnx/decoder_model.onnx"] = copy["onnx/decoder_model_merged.onnx"] as Uint8Array;
      delete copy["onnx/decoder_model_merged.onnx"];
    });

    expect(error.file).toBe("onnx/decoder_with_past_model.onnx");
  });

  it("config without decoder.vocab_size", async () => {
    const error = await loadError((copy) => {
      const config = json("config.json");
      delete (config.decoder as Record<string, unknown>).vocab_size;
      copy["config.json"] = encodeJson(config);
    });

    expect(error.file).toBe("config.json");
    expect(error.field).toBe("decoder.vocab_size");
  });

  it("config without decoder layer count", async () => {
    const error = await loadError((copy) => {
      const config = json("config.json");
      delete (config.decoder as Record<string, unknown>).n_layer;
      copy["config.json"] = encodeJson(config);
    });

    expect(error.field).toBe("decoder.n_layer");
  });

  it("config of another model type", async () => {
    const error = await loadError((copy) => {
      copy["config.json"] = encodeJson({ ...json("config.json"), model_type: "gpt2" });
    });

    expect(error.field).toBe("model_type");
    expect(error.message).toContain('"gpt2"');
  });

  it("config with more layers than the graph", async () => {
    const error = await loadError((copy) => {
      const config = json("config.json");
      (config.decoder as Record<string, unknown>).n_layer = 3;
      copy["config.json"] = encodeJson(config);
    });

    expect(error.file).toBe("onnx/decoder_model_merged.onnx");
    expect(error.field).toBe("past_key_values.2.key");
  });

  it("config without decoder start token", async () => {
    const error = await loadError((copy) => {
      const config = json("config.json");
      const generation = json("generation_config.json");
      for (const target of [config, config.decoder as Record<string, unknown>, generation]) {
        delete target.decoder_start_token_id;
        delete target.bos_token_id;
      }
      copy["config.json"] = encodeJson(config);
      copy["generation_config.json"] = encodeJson(generation);
    });

    expect(error.field).toBe("decoder_start_token_id");
  });

  it("invalid config JSON", async () => {
    const error = await loadError((copy) => {
      copy["config.json"] = new TextEncoder().encode("{ not json");
    });

    expect(error.file).toBe("config.json");
    expect(error.message).toContain("invalid JSON");
  });

  it("missing tokenizer", async () => {
    const error = await loadError((copy) => {
      delete copy["tokenizer.json"];
    });

    expect(error.file).toBe("tokenizer.json");
  });

  it("missing preprocessor config", async () => {
    const error = await loadError((copy) => {
      delete copy["preprocessor_config.json"];
    });

    expect(error.file).toBe("preprocessor_config.json");
  });

  it("unsupported resample filter", async () => {
    const error = await loadError((copy) => {
      copy["preprocessor_config.json"] = encodeJson({
        ...json("preprocessor_config.json"),
        resample: 1,
      });
    });

    expect(error.file).toBe("preprocessor_config.json");
    expect(error.field).toBe("resample");
    expect(error.message).toContain("LANCZOS");
  });

  it("unsupported rescale factor", async () => {
    const error = await loadError((copy) => {
      copy["preprocessor_config.json"] = encodeJson({
        ...json("preprocessor_config.json"),
        rescale_factor: 1,
      });
    });

    expect(error.field).toBe("rescale_factor");
  });

  it("center crop without crop_size", async () => {
    const error = await loadError((copy) => {
      copy["preprocessor_config.json"] = encodeJson({
        ...json("preprocessor_config.json"),
        do_center_crop: true,
      });
    });

    expect(error.field).toBe("crop_size");
  });

  it("graph that is not ONNX", async () => {
    const error = await loadError((copy) => {
      copy["onnx/encoder_model.onnx"] = new TextEncoder().encode("not a graph");
    });

    expect(error.file).toBe("onnx/encoder_model.onnx");
    expect(error.message).toContain("ONNX Runtime could not load");
  });
});

describe("preprocessor_config.json variants", () => {
  it("shortest edge, bicubic and center crop", async () => {
    const variant = {
      ...JSON.parse(new TextDecoder().decode(files["preprocessor_config.json"])),
      size: { shortest_edge: 128 },
      resample: 3,
      do_center_crop: true,
      crop_size: { height: 112, width: 112 },
      image_mean: [0.1, 0.2, 0.3],
      image_std: [0.5, 0.6, 0.7],
    };
    const loaded = await CommunityCaptioner.load(
      memoryPackageSource("variant", {
        ...files,
        "preprocessor_config.json": new TextEncoder().encode(JSON.stringify(variant)),
      }),
      ort,
    );

    expect(loaded.pipeline).toMatchObject({
      resize: { kind: "shorter_side", size: 128 },
      resample: "bicubic",
      crop: { width: 112, height: 112 },
      mean: [0.1, 0.2, 0.3],
      std: [0.5, 0.6, 0.7],
      rescale: "multiply_reciprocal",
    });
  });

  it("do_normalize false keeps 0..1 pixels", async () => {
    const variant = {
      ...JSON.parse(new TextDecoder().decode(files["preprocessor_config.json"])),
      do_normalize: false,
    };
    const loaded = await CommunityCaptioner.load(
      memoryPackageSource("variant", {
        ...files,
        "preprocessor_config.json": new TextEncoder().encode(JSON.stringify(variant)),
      }),
      ort,
    );

    expect(loaded.pipeline.mean).toEqual([0, 0, 0]);
    expect(loaded.pipeline.std).toEqual([1, 1, 1]);
  });
});

describe("captions without cross-attention outputs", () => {
  it("attention request names the missing output", async () => {
    // A session proxy that hides cross_attentions.* replaces a graph exported without them.
    const hiding: OrtApi = {
      Tensor: ort.Tensor,
      InferenceSession: {
        create: async (model, options) => {
          const session = await ort.InferenceSession.create(model, options);
          const outputNames = session.outputNames.filter((n) => !n.startsWith("cross_attentions"));
          return new Proxy(session, {
            get: (target, property) => {
              if (property === "outputNames") return outputNames;
              const value: unknown = Reflect.get(target, property);
              return typeof value === "function" ? value.bind(target) : value;
            },
          });
        },
      },
    };
    const loaded = await CommunityCaptioner.load(directoryPackageSource(PACKAGE_DIR), hiding);
    const error = await loaded.caption(photo, { attention: true }).catch((e) => e);

    expect(loaded.hasCrossAttentions).toBe(false);
    expect(error).toBeInstanceOf(ModelPackageError);
    expect(error.field).toBe("cross_attentions.0");
  });
});
