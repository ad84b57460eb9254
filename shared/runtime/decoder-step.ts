// The exported decoder graph wrapped as the decoding module's StepModel: one session run per
// generated token for all rows (beams or samples), with the past key/value cache gathered on the
// batch axis by beam index before each step.
import type { StepInput, StepModel, StepOutput } from "../decoding/types.ts";
import type { InferenceSession, OrtApi, Tensor } from "./ort.ts";

export interface DecoderGeometry {
  numLayers: number;
  numHeads: number;
  headDim: number;
  hiddenSize: number;
  vocabSize: number;
  /** Prefix positions the attention output covers (CLS first). */
  prefixLength: number;
  /** Leading prefix positions that are not patches (the CLS token). */
  clsTokens: number;
  /** Decoder layers averaged into the attention rows; all layers when empty. */
  attentionLayers: readonly number[];
}

/** Per-step attention of each row, split into the patch map and the share of attention on the image. */
export interface PatchAttention {
  /** rows x patches, the head- and layer-averaged weights over the patch positions, unnormalised. */
  patches: Float32Array;
  patchCount: number;
}

/** Copies rows of a [batch, ...rest] tensor in the order `indices` gives. */
export function gatherRows(data: Float32Array, rowSize: number, indices: Int32Array): Float32Array {
  const out = new Float32Array(indices.length * rowSize);
  for (let i = 0; i < indices.length; i++) {
    const source = indices[i] as number;
    out.set(data.subarray(source * rowSize, (source + 1) * rowSize), i * rowSize);
  }
  return out;
}

export class OnnxDecoderStep implements StepModel {
  readonly vocabSize: number;
  readonly #ort: OrtApi;
  readonly #session: InferenceSession;
  readonly #geometry: DecoderGeometry;
  readonly #prefix: Float32Array;
  readonly #withAttention: boolean;
  /** present.{layer}.{key,value} of the previous step, [rows, heads, length, headDim]. */
  #cache: { data: Float32Array; rows: number; length: number }[] = [];

  /** `prefix` is one image's prefix embeddings, [1, prefixLength, hiddenSize]. */
  constructor(
    ort: OrtApi,
    session: InferenceSession,
    geometry: DecoderGeometry,
    prefix: Float32Array,
    withAttention: boolean,
  ) {
    this.#ort = ort;
    this.#session = session;
    this.#geometry = geometry;
    this.#prefix = prefix;
    this.#withAttention = withAttention;
    this.vocabSize = geometry.vocabSize;
  }

  async step(input: StepInput): Promise<StepOutput> {
    const { numLayers, numHeads, headDim, hiddenSize, prefixLength } = this.#geometry;
    const rows = input.tokenIds.length;
    const Tensor = this.#ort.Tensor;

    // Step 0 reads the prefix and the begin token on an empty cache. Later steps read one token each
    // on the cache reordered by beam index.
    const firstStep = input.stepIndex === 0;
    if (firstStep && rows !== 1) {
      throw new RangeError(`the first decoder step takes one row, got ${rows}`);
    }
    const prefixTensor = firstStep
      ? new Tensor("float32", this.#prefix, [1, prefixLength, hiddenSize])
      : new Tensor("float32", new Float32Array(0), [rows, 0, hiddenSize]);

    const feeds: Record<string, Tensor> = {
      prefix_embeds: prefixTensor,
      input_ids: new Tensor(
        "int64",
        BigInt64Array.from(input.tokenIds, (id) => BigInt(id)),
        [rows, 1],
      ),
    };
    for (let layer = 0; layer < numLayers; layer++) {
      for (const [offset, kind] of [
        [0, "key"],
        [1, "value"],
      ] as const) {
        const cached = this.#cache[layer * 2 + offset];
        if (firstStep || cached === undefined) {
          feeds[`past_key_values.${layer}.${kind}`] = new Tensor("float32", new Float32Array(0), [
            rows,
            numHeads,
            0,
            headDim,
          ]);
          continue;
        }
        const rowSize = numHeads * cached.length * headDim;
        const data =
          input.beamIndices === null
            ? cached.data
            : gatherRows(cached.data, rowSize, input.beamIndices);
        if (data.length !== rows * rowSize) {
          throw new RangeError(
            `KV cache has ${data.length / rowSize} rows after reordering, step has ${rows}`,
          );
        }
        feeds[`past_key_values.${layer}.${kind}`] = new Tensor("float32", data, [
          rows,
          numHeads,
          cached.length,
          headDim,
        ]);
      }
    }

    const outputs = await this.#session.run(feeds);

    this.#cache = [];
    for (let layer = 0; layer < numLayers; layer++) {
      for (const kind of ["key", "value"]) {
        const present = outputs[`present.${layer}.${kind}`];
        if (present === undefined)
          throw new Error(`decoder output present.${layer}.${kind} is missing`);
        this.#cache.push({
          data: present.data as Float32Array,
          rows,
          length: present.dims[2] as number,
        });
      }
    }

    const logits = outputs.logits;
    if (logits === undefined) throw new Error("decoder output logits is missing");
    const result: StepOutput = { logits: logits.data as Float32Array };
    if (this.#withAttention) {
      const attention = outputs.prefix_attention;
      if (attention === undefined) throw new Error("decoder output prefix_attention is missing");
      result.attention = this.#averagePatchAttention(
        attention.data as Float32Array,
        rows,
        attention.dims,
      );
    }
    return result;
  }

  /**
   * Averages prefix_attention [layers, rows, new_tokens = 1, prefixLength] over the chosen layers and
   * drops the CLS positions: rows x patches, still unnormalised.
   */
  #averagePatchAttention(data: Float32Array, rows: number, dims: readonly number[]): Float32Array {
    const { prefixLength, clsTokens, numLayers, attentionLayers } = this.#geometry;
    const layers =
      attentionLayers.length > 0 ? attentionLayers : Array.from({ length: numLayers }, (_, i) => i);
    const newTokens = dims[2] as number;
    const patchCount = prefixLength - clsTokens;
    const out = new Float32Array(rows * patchCount);

    for (const layer of layers) {
      for (let row = 0; row < rows; row++) {
        // The last new token's row: the one whose logits this step returns.
        const base =
          ((layer * rows + row) * newTokens + (newTokens - 1)) * prefixLength + clsTokens;
        for (let p = 0; p < patchCount; p++) {
          const at = row * patchCount + p;
          out[at] = (out[at] as number) + (data[base + p] as number) / layers.length;
        }
      }
    }
    return out;
  }
}
