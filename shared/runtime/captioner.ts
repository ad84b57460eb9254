// The ONNX captioner: image bytes -> preprocessing -> vision graph (prefix embeddings, cached by image
// hash) -> decoding over the decoder graph -> captions, per-token scores and attention maps.
import {
  ATTENTION_SCHEMA,
  type AttentionDocument,
  normalizeAttentionRow,
} from "../attention/schema.ts";
import { generate } from "../decoding/generate.ts";
import type { GenerationOptions } from "../decoding/options.ts";
import type { GeneratedSequence, GenerationResult } from "../decoding/types.ts";
import { sha256Hex } from "../image/hash.ts";
import { pipelineFromModelFields } from "../image/model-config.ts";
import { type PreprocessPipeline, preprocessImage } from "../image/pipelines.ts";
import { type CaptionTokenizer, loadTokenizer } from "../tokenizers/tokenizer.ts";
import { type DecoderGeometry, OnnxDecoderStep } from "./decoder-step.ts";
import { type CacheStatus, type EmbeddingCache, readThroughCache } from "./embedding-cache.ts";
import { ModelPackageError } from "./errors.ts";
import { type CaptionerManifest, parseCaptionerManifest, preprocessingFields } from "./manifest.ts";
import type { InferenceSession, OrtApi } from "./ort.ts";
import { type PackageSource, requireBytes, verifySha256 } from "./package-source.ts";

/** Bump when decoding or resizing changes, so cached prefixes from older code are not reused. */
export const PREPROCESSING_VERSION = "1";

/** Decoding options a caller may set; token ids come from the package. */
export type CaptionGenerationOptions = Omit<
  GenerationOptions,
  "bos_token_id" | "eos_token_id" | "pad_token_id"
>;

export interface CaptionRequest {
  generation?: CaptionGenerationOptions;
  /** Return per-token attention maps (docs/attention-schema.md). */
  attention?: boolean;
  /** Largest accepted width x height, checked on the image header before decoding. */
  maxPixels?: number;
  /** Id of the image in the attention document (a file name without extension, say). */
  imageId?: string;
  /** Streams greedy and sampled tokens as soon as they are final. */
  onToken?: (event: {
    sequenceIndex: number;
    tokenId: number;
    text: string;
    logprob: number;
  }) => void;
  signal?: AbortSignal;
}

export interface CaptionToken {
  id: number;
  text: string;
  logprob: number;
}

export interface CaptionHypothesis {
  text: string;
  score: number;
  finishReason: "eos" | "length";
  tokens: CaptionToken[];
}

export interface CaptionResult {
  model: { id: string; sha256: string };
  image: { sha256: string; width: number; height: number };
  strategy: GenerationResult["strategy"];
  seed: number | null;
  captions: CaptionHypothesis[];
  attention: AttentionDocument | null;
  /** "hit" when the prefix came from the embedding cache, "miss" when computed, "off" without a cache. */
  cache: CacheStatus;
  timings: { preprocessMs: number; encodeMs: number; generateMs: number; steps: number };
}

export interface LoadCaptionerOptions {
  cache?: EmbeddingCache;
  /** Seconds a cached prefix lives; stores without expiry ignore it. */
  cacheTtlSeconds?: number;
  /** Check every file against the manifest's sha256 (default true). */
  verifyHashes?: boolean;
  sessionOptions?: InferenceSession.SessionOptions;
}

const now = (): number => (typeof performance === "undefined" ? Date.now() : performance.now());

export class OnnxCaptioner {
  readonly manifest: CaptionerManifest;
  /** sha256 of manifest.json, which records every file's hash: one id for the whole package. */
  readonly sha256: string;
  readonly tokenizer: CaptionTokenizer;
  readonly pipeline: PreprocessPipeline;
  readonly #ort: OrtApi;
  readonly #vision: InferenceSession;
  readonly #decoder: InferenceSession;
  readonly #cache: EmbeddingCache | undefined;
  readonly #cacheTtlSeconds: number | undefined;
  readonly #geometry: DecoderGeometry;

  private constructor(parts: {
    manifest: CaptionerManifest;
    sha256: string;
    tokenizer: CaptionTokenizer;
    ort: OrtApi;
    vision: InferenceSession;
    decoder: InferenceSession;
    options: LoadCaptionerOptions;
  }) {
    this.manifest = parts.manifest;
    this.sha256 = parts.sha256;
    this.tokenizer = parts.tokenizer;
    this.#ort = parts.ort;
    this.#vision = parts.vision;
    this.#decoder = parts.decoder;
    this.#cache = parts.options.cache;
    this.#cacheTtlSeconds = parts.options.cacheTtlSeconds;
    this.pipeline = pipelineFromModelFields(
      parts.manifest.id,
      preprocessingFields(parts.manifest.preprocessing),
    );

    const { decoder, prefix, attention } = parts.manifest;
    this.#geometry = {
      numLayers: decoder.num_layers,
      numHeads: decoder.num_heads,
      headDim: decoder.head_dim,
      hiddenSize: decoder.hidden_size,
      vocabSize: decoder.vocab_size,
      prefixLength: prefix.length,
      clsTokens: prefix.cls_tokens,
      attentionLayers: attention?.layers ?? [],
    };
  }

  /** Loads an edgecap captioner package: manifest, tokenizer and both ONNX sessions. */
  static async load(
    source: PackageSource,
    ort: OrtApi,
    options: LoadCaptionerOptions = {},
  ): Promise<OnnxCaptioner> {
    const manifestBytes = await requireBytes(source, "manifest.json");
    let manifestJson: unknown;
    try {
      manifestJson = JSON.parse(new TextDecoder().decode(manifestBytes));
    } catch (error) {
      throw new ModelPackageError("manifest.json", null, `invalid JSON: ${String(error)}`);
    }
    const manifest = parseCaptionerManifest(manifestJson);
    const verify = options.verifyHashes !== false;

    const read = async (name: string): Promise<Uint8Array> => {
      const bytes = await requireBytes(source, name);
      if (verify) await verifySha256(name, bytes, manifest.files[name]?.sha256);
      return bytes;
    };
    const [visionBytes, decoderBytes, tokenizerBytes] = await Promise.all([
      read(manifest.vision.file),
      read(manifest.decoder.file),
      read(manifest.tokenizer.file),
    ]);

    const tokenizer = loadTokenizer(JSON.parse(new TextDecoder().decode(tokenizerBytes)));
    const vision = await ort.InferenceSession.create(visionBytes, options.sessionOptions);
    const decoder = await ort.InferenceSession.create(decoderBytes, options.sessionOptions);
    return new OnnxCaptioner({
      manifest,
      sha256: await sha256Hex(manifestBytes),
      tokenizer,
      ort,
      vision,
      decoder,
      options,
    });
  }

  get id(): string {
    return this.manifest.id;
  }

  /** Captions one image. Throws ImageDecodeError for bad images and GenerationOptionsError for bad options. */
  async caption(imageBytes: Uint8Array, request: CaptionRequest = {}): Promise<CaptionResult> {
    const started = now();
    const imageSha256 = await sha256Hex(imageBytes);
    const preprocessed = await preprocessImage(
      imageBytes,
      this.pipeline,
      request.maxPixels === undefined ? {} : { maxPixels: request.maxPixels },
    );
    const preprocessMs = now() - started;

    const encodeStarted = now();
    const { prefix, cache } = await this.#prefixFor(
      imageSha256,
      preprocessed.data,
      preprocessed.shape,
    );
    const encodeMs = now() - encodeStarted;

    const generateStarted = now();
    const withAttention = request.attention === true;
    const step = new OnnxDecoderStep(
      this.#ort,
      this.#decoder,
      this.#geometry,
      prefix,
      withAttention,
    );
    const { tokenizer } = this.manifest;
    const options: GenerationOptions = {
      max_new_tokens: this.manifest.generation?.max_new_tokens ?? 30,
      ...request.generation,
      bos_token_id: tokenizer.bos_token_id,
      eos_token_id: tokenizer.eos_token_id,
      pad_token_id: tokenizer.pad_token_id ?? tokenizer.eos_token_id,
    };
    const onToken = request.onToken;
    const result = await generate(step, options, {
      ...(onToken === undefined
        ? {}
        : {
            onToken: (event) => onToken({ ...event, text: this.tokenizer.decode([event.tokenId]) }),
          }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
    const generateMs = now() - generateStarted;

    const captions = result.sequences.map((sequence) => this.#hypothesis(sequence));
    const image = {
      sha256: imageSha256,
      width: preprocessed.sourceWidth,
      height: preprocessed.sourceHeight,
    };
    return {
      model: { id: this.id, sha256: this.sha256 },
      image,
      strategy: result.strategy,
      seed: result.seed,
      captions,
      attention: withAttention
        ? this.#attentionDocument(request, result, captions, preprocessed.cropBox, image)
        : null,
      cache,
      timings: { preprocessMs, encodeMs, generateMs, steps: result.steps },
    };
  }

  /** Runs the vision graph, or reads its output from the cache when this image was seen before. */
  async #prefixFor(
    imageSha256: string,
    pixels: Float32Array,
    shape: readonly [number, number, number],
  ): Promise<{ prefix: Float32Array; cache: CacheStatus }> {
    const { tensor, status } = await readThroughCache(
      this.#cache,
      {
        kind: "prefix",
        imageSha256,
        modelId: this.id,
        modelSha256: this.manifest.files[this.manifest.vision.file]?.sha256 ?? this.sha256,
        preprocessingVersion: PREPROCESSING_VERSION,
      },
      this.#cacheTtlSeconds,
      async () => {
        const input = new this.#ort.Tensor("float32", pixels, [1, ...shape]);
        const outputs = await this.#vision.run({ pixel_values: input });
        const prefix = outputs.prefix_embeds;
        if (prefix === undefined) throw new Error("vision graph output prefix_embeds is missing");
        return { dtype: "float32", dims: [...prefix.dims], data: prefix.data as Float32Array };
      },
    );
    return { prefix: tensor.data, cache: status };
  }

  #hypothesis(sequence: GeneratedSequence): CaptionHypothesis {
    const ids = Array.from(sequence.tokenIds);
    const display = this.tokenizer.displayTokens(ids);
    return {
      text: this.tokenizer.decode(ids).trim(),
      score: sequence.score,
      finishReason: sequence.finishReason,
      tokens: ids.map((id, i) => ({
        id,
        text: display[i] ?? "",
        logprob: sequence.tokenLogprobs[i] ?? 0,
      })),
    };
  }

  #attentionDocument(
    request: CaptionRequest,
    result: GenerationResult,
    captions: CaptionHypothesis[],
    crop: { left: number; top: number; width: number; height: number },
    image: CaptionResult["image"],
  ): AttentionDocument {
    const { grid } = this.manifest.prefix;
    return {
      schema: ATTENTION_SCHEMA,
      model: { id: this.id, sha256: this.sha256, family: "prefix-gpt2" },
      image: {
        id: request.imageId ?? image.sha256.slice(0, 16),
        width: image.width,
        height: image.height,
        sha256: image.sha256,
      },
      config: { strategy: result.strategy, ...(request.generation ?? {}) },
      grid: { rows: grid.rows, cols: grid.cols },
      crop: { left: crop.left, top: crop.top, width: crop.width, height: crop.height },
      layers:
        this.#geometry.attentionLayers.length > 0
          ? [...this.#geometry.attentionLayers]
          : Array.from({ length: this.#geometry.numLayers }, (_, i) => i),
      sink_removed: false,
      hypotheses: result.sequences.map((sequence, rank) => {
        const caption = captions[rank] as CaptionHypothesis;
        return {
          rank,
          caption: caption.text,
          score: sequence.score,
          tokens: caption.tokens.map((token, index) => {
            const row = sequence.attention?.[index];
            const { attention, imageMass } = normalizeAttentionRow(
              row ?? new Float32Array(grid.rows * grid.cols),
            );
            return { index, id: token.id, text: token.text, image_mass: imageMass, attention };
          }),
        };
      }),
    };
  }
}
