// Parity of the exported model packages with PyTorch: each package's ONNX graphs, run with
// onnxruntime-node, must reproduce the fixtures that models/edgecap_models/parity.py wrote from the
// PyTorch model, within the fixture's tolerance (1e-4), step by step through the decoder's
// past-key-value interface. Also checks each manifest's file hashes.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../helpers/paths.ts";

const PARITY_DIR = join(REPO_ROOT, "test/fixtures/parity");

type LogitRow = {
  argmax: number;
  logsumexp: number;
  top_ids: number[];
  top_values: number[];
  probe_values: number[];
};

type CaptionerStep = {
  prefix_length: number;
  past_length: number;
  input_ids: number[][];
  logits_shape: number[];
  logits: LogitRow[];
  present_shape: number[];
  prefix_attention_shape: number[];
  prefix_attention: number[][][][];
};

type TensorFile = { file: string; shape: number[]; dtype: "float32" };

type CaptionerFixture = {
  package: string;
  package_dir: string;
  pixel_values: TensorFile;
  prefix_embeds: TensorFile;
  probe_ids: number[];
  steps: CaptionerStep[];
  tolerance: number;
};

type ClipFixture = {
  package: string;
  package_dir: string;
  pixel_values: TensorFile;
  image_embeds: number[][];
  input_ids: number[][];
  text_embeds: number[][];
  tolerance: number;
};

type Manifest = {
  schema: string;
  id: string;
  kind: "captioner" | "clip";
  files: Record<string, { sha256: string; bytes: number }>;
  decoder?: {
    file: string;
    num_layers: number;
    num_heads: number;
    head_dim: number;
    hidden_size: number;
  };
  vision?: { file: string };
  image?: { file: string };
  text?: { file: string };
};

function readFixture<T>(id: string): T {
  const path = join(PARITY_DIR, id, "fixture.json");
  if (!existsSync(path)) {
    throw new Error(
      `parity fixture ${path} is missing; regenerate it with edgecap_models.export or edgecap_models.release`,
    );
  }
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

function readTensor(id: string, tensor: TensorFile): ort.Tensor {
  const bytes = readFileSync(join(PARITY_DIR, id, tensor.file));
  const data = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  expect(data.length).toBe(tensor.shape.reduce((a, b) => a * b, 1));
  return new ort.Tensor("float32", data, tensor.shape);
}

function readManifest(packageDir: string): Manifest {
  return JSON.parse(
    readFileSync(resolve(REPO_ROOT, packageDir, "manifest.json"), "utf8"),
  ) as Manifest;
}

// Largest absolute difference, so a failure names how far off the runtime is.
function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs((actual[i] ?? Number.NaN) - (expected[i] ?? Number.NaN)));
  }
  return Number.isNaN(worst) ? Number.POSITIVE_INFINITY : worst;
}

function output(outputs: ort.InferenceSession.OnnxValueMapType, name: string): ort.Tensor {
  const tensor = outputs[name];
  if (tensor === undefined) throw new Error(`the graph returned no output named ${name}`);
  return tensor as ort.Tensor;
}

function floats(tensor: ort.Tensor): Float32Array {
  return tensor.data as Float32Array;
}

function logsumexp(row: Float32Array): number {
  let max = -Infinity;
  for (const value of row) max = Math.max(max, value);
  let sum = 0;
  for (const value of row) sum += Math.exp(value - max);
  return max + Math.log(sum);
}

function int64Tensor(rows: number[][]): ort.Tensor {
  const data = BigInt64Array.from(rows.flat().map((id) => BigInt(id)));
  return new ort.Tensor("int64", data, [rows.length, rows[0]?.length ?? 0]);
}

function checkManifestHashes(packageDir: string, manifest: Manifest): void {
  for (const [name, entry] of Object.entries(manifest.files)) {
    const bytes = readFileSync(resolve(REPO_ROOT, packageDir, name));
    expect(bytes.length, name).toBe(entry.bytes);
    expect(createHash("sha256").update(bytes).digest("hex"), name).toBe(entry.sha256);
  }
}

const CAPTIONER_FIXTURES = ["edgecap-tiny-random", "edgecap-demo-captioner"];
const CLIP_FIXTURES = ["edgecap-tiny-random-clip", "edgecap-demo-clip"];

describe.each(CAPTIONER_FIXTURES)("captioner package %s", (id) => {
  it("matches PyTorch step by step", async () => {
    const fixture = readFixture<CaptionerFixture>(id);
    const manifest = readManifest(fixture.package_dir);
    expect(manifest.schema).toBe("edgecap.model-package/v1");
    expect(manifest.id).toBe(id);
    checkManifestHashes(fixture.package_dir, manifest);
    const decoderInfo = manifest.decoder;
    if (decoderInfo === undefined || manifest.vision === undefined)
      throw new Error(`${id}: not a captioner manifest`);

    const vision = await ort.InferenceSession.create(
      resolve(REPO_ROOT, fixture.package_dir, manifest.vision.file),
    );
    const decoder = await ort.InferenceSession.create(
      resolve(REPO_ROOT, fixture.package_dir, decoderInfo.file),
    );
    const tolerance = fixture.tolerance;

    const pixels = readTensor(id, fixture.pixel_values);
    const expectedPrefix = readTensor(id, fixture.prefix_embeds);
    const prefix = output(await vision.run({ pixel_values: pixels }), "prefix_embeds");
    expect(prefix.dims).toEqual(fixture.prefix_embeds.shape);
    expect(maxAbsDiff(floats(prefix), floats(expectedPrefix))).toBeLessThanOrEqual(tolerance);

    const batch = pixels.dims[0] ?? 0;
    const {
      num_layers: layers,
      num_heads: heads,
      head_dim: headDim,
      hidden_size: hidden,
    } = decoderInfo;
    let past: Record<string, ort.Tensor> = {};
    for (let layer = 0; layer < layers; layer++) {
      for (const kind of ["key", "value"]) {
        past[`past_key_values.${layer}.${kind}`] = new ort.Tensor("float32", new Float32Array(0), [
          batch,
          heads,
          0,
          headDim,
        ]);
      }
    }

    for (const [index, step] of fixture.steps.entries()) {
      const stepPrefix =
        step.prefix_length > 0
          ? prefix
          : new ort.Tensor("float32", new Float32Array(0), [batch, 0, hidden]);
      const outputs = await decoder.run({
        prefix_embeds: stepPrefix,
        input_ids: int64Tensor(step.input_ids),
        ...past,
      });

      const logits = output(outputs, "logits");
      expect(logits.dims, `step ${index} logits shape`).toEqual(step.logits_shape);
      const vocab = logits.dims[1] ?? 0;
      for (const [row, expected] of step.logits.entries()) {
        const values = floats(logits).subarray(row * vocab, (row + 1) * vocab);
        const probes = fixture.probe_ids.map((tokenId) => values[tokenId] ?? Number.NaN);
        expect(
          maxAbsDiff(probes, expected.probe_values),
          `step ${index} row ${row} probe logits`,
        ).toBeLessThanOrEqual(tolerance);
        const tops = expected.top_ids.map((tokenId) => values[tokenId] ?? Number.NaN);
        expect(
          maxAbsDiff(tops, expected.top_values),
          `step ${index} row ${row} top logits`,
        ).toBeLessThanOrEqual(tolerance);
        expect(
          Math.abs(logsumexp(values) - expected.logsumexp),
          `step ${index} row ${row} logsumexp`,
        ).toBeLessThanOrEqual(tolerance);
      }

      const attention = output(outputs, "prefix_attention");
      expect(attention.dims, `step ${index} prefix_attention shape`).toEqual(
        step.prefix_attention_shape,
      );
      const expectedAttention = step.prefix_attention.flat(3);
      expect(
        maxAbsDiff(floats(attention), expectedAttention),
        `step ${index} prefix_attention`,
      ).toBeLessThanOrEqual(tolerance);

      past = {};
      for (let layer = 0; layer < layers; layer++) {
        for (const kind of ["key", "value"]) {
          const present = output(outputs, `present.${layer}.${kind}`);
          expect(present.dims, `step ${index} present.${layer}.${kind} shape`).toEqual(
            step.present_shape,
          );
          past[`past_key_values.${layer}.${kind}`] = present;
        }
      }
    }
  });
});

describe.each(CLIP_FIXTURES)("CLIP package %s", (id) => {
  it("matches PyTorch embeddings", async () => {
    const fixture = readFixture<ClipFixture>(id);
    const manifest = readManifest(fixture.package_dir);
    expect(manifest.schema).toBe("edgecap.model-package/v1");
    checkManifestHashes(fixture.package_dir, manifest);
    if (manifest.image === undefined || manifest.text === undefined)
      throw new Error(`${id}: not a CLIP manifest`);

    const image = await ort.InferenceSession.create(
      resolve(REPO_ROOT, fixture.package_dir, manifest.image.file),
    );
    const text = await ort.InferenceSession.create(
      resolve(REPO_ROOT, fixture.package_dir, manifest.text.file),
    );

    const imageEmbeds = output(
      await image.run({ pixel_values: readTensor(id, fixture.pixel_values) }),
      "image_embeds",
    );
    expect(imageEmbeds.dims).toEqual([
      fixture.image_embeds.length,
      fixture.image_embeds[0]?.length,
    ]);
    expect(maxAbsDiff(floats(imageEmbeds), fixture.image_embeds.flat())).toBeLessThanOrEqual(
      fixture.tolerance,
    );

    const textEmbeds = output(
      await text.run({ input_ids: int64Tensor(fixture.input_ids) }),
      "text_embeds",
    );
    expect(textEmbeds.dims).toEqual([fixture.text_embeds.length, fixture.text_embeds[0]?.length]);
    expect(maxAbsDiff(floats(textEmbeds), fixture.text_embeds.flat())).toBeLessThanOrEqual(
      fixture.tolerance,
    );
  });
});
