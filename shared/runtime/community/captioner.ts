// A community-layout image captioner (optimum's VisionEncoderDecoder export, as transformers.js
// loads it) behind the same caption() API and result shape as OnnxCaptioner.
import { generate } from "../../decoding/generate.ts";
import type { GenerationOptions } from "../../decoding/options.ts";
import { sha256Hex } from "../../image/hash.ts";
import { type PreprocessPipeline, preprocessImage } from "../../image/pipelines.ts";
import { type CaptionTokenizer, loadTokenizer } from "../../tokenizers/tokenizer.ts";
import { type CaptionRequest, type CaptionResult, PREPROCESSING_VERSION } from "../captioner.ts";
import { type CacheStatus, type EmbeddingCache, readThroughCache } from "../embedding-cache.ts";
import { ModelPackageError } from "../errors.ts";
import type { InferenceSession, OrtApi } from "../ort.ts";
import { type PackageSource, requireBytes } from "../package-source.ts";
import {
  decoderGeometryFields,
  encoderGrid,
  parseVisionEncoderDecoderConfig,
  type VisionEncoderDecoderConfig,
} from "./config.ts";
import {
  CrossAttentionDecoderStep,
  type CrossDecoderGeometry,
  type CrossDecoderSessions,
  type EncoderStates,
} from "./cross-decoder-step.ts";
import { type CommunityGeneration, communityGeneration } from "./generation.ts";
import { parseJsonFile } from "./json.ts";
import { readDecoderFiles, requireOnnxFile } from "./layout.ts";
import { pipelineFromPreprocessorConfig } from "./preprocessor.ts";
import { captionHypothesis, crossAttentionDocument } from "./result.ts";
import {
  createSession,
  packageId,
  packageSha256,
  validateDecoder,
  validateEncoder,
} from "./sessions.ts";

export interface LoadCommunityCaptionerOptions {
  cache?: EmbeddingCache;
  /** Seconds a cached encoder output lives; stores without expiry ignore it. */
  cacheTtlSeconds?: number;
  sessionOptions?: InferenceSession.SessionOptions;
  /** Model id in results and cache keys; defaults to config.json's _name_or_path, else the folder name. */
  id?: string;
}

const now = (): number => (typeof performance === "undefined" ? Date.now() : performance.now());

export class CommunityCaptioner {
  readonly id: string;
  /** sha256 over the path and sha256 of every file read, so one id covers the whole package. */
  readonly sha256: string;
  readonly config: VisionEncoderDecoderConfig;
  readonly tokenizer: CaptionTokenizer;
  readonly pipeline: PreprocessPipeline;
  readonly generation: CommunityGeneration;
  /** The encoder's patch grid, or null when config.json does not state image_size and patch_size. */
  readonly grid: { rows: number; cols: number } | null;
  /** Whether the decoder returns cross_attentions.{i}, which attention maps need. */
  readonly hasCrossAttentions: boolean;
  readonly #ort: OrtApi;
  readonly #encoder: InferenceSession;
  readonly #encoderSha256: string;
  readonly #decoder: CrossDecoderSessions;
  readonly #decoderFile: string;
  readonly #geometry: Omit<CrossDecoderGeometry, "clsTokens">;
  readonly #options: LoadCommunityCaptionerOptions;

  private constructor(parts: {
    id: string;
    sha256: string;
    config: VisionEncoderDecoderConfig;
    tokenizer: CaptionTokenizer;
    pipeline: PreprocessPipeline;
    generation: CommunityGeneration;
    ort: OrtApi;
    encoder: InferenceSession;
    encoderSha256: string;
    decoder: CrossDecoderSessions;
    decoderFile: string;
    geometry: Omit<CrossDecoderGeometry, "clsTokens">;
    hasCrossAttentions: boolean;
    options: LoadCommunityCaptionerOptions;
  }) {
    this.id = parts.id;
    this.sha256 = parts.sha256;
    this.config = parts.config;
    this.tokenizer = parts.tokenizer;
    this.pipeline = parts.pipeline;
    this.generation = parts.generation;
    this.grid = encoderGrid(parts.config);
    this.hasCrossAttentions = parts.hasCrossAttentions;
    this.#ort = parts.ort;
    this.#encoder = parts.encoder;
    this.#encoderSha256 = parts.encoderSha256;
    this.#decoder = parts.decoder;
    this.#decoderFile = parts.decoderFile;
    this.#geometry = parts.geometry;
    this.#options = parts.options;
  }

  /**
   * Loads config.json, preprocessor_config.json, generation_config.json (optional), tokenizer.json
   * and the encoder and decoder graphs. Throws ModelPackageError naming the file and field when
   * one is missing or invalid.
   */
  static async load(
    source: PackageSource,
    ort: OrtApi,
    options: LoadCommunityCaptionerOptions = {},
  ): Promise<CommunityCaptioner> {
    const configBytes = await requireBytes(source, "config.json");
    const config = parseVisionEncoderDecoderConfig(configBytes);
    const sizes = decoderGeometryFields(config);
    const id = packageId(options.id, config, source);

    const preprocessorBytes = await requireBytes(source, "preprocessor_config.json");
    const pipeline = pipelineFromPreprocessorConfig(id, preprocessorBytes);
    const generationBytes = await source.readBytes("generation_config.json");
    const generation = communityGeneration(config, generationBytes);

    const tokenizerBytes = await requireBytes(source, "tokenizer.json");
    const tokenizer = loadCommunityTokenizer(tokenizerBytes, sizes.vocabSize);

    const encoderFile = await requireOnnxFile(source, "encoder_model.onnx", "the image encoder");
    const decoderFiles = await readDecoderFiles(source);
    const encoder = await createSession(ort, encoderFile, options.sessionOptions);
    validateEncoder(encoder, encoderFile.path);

    let decoder: CrossDecoderSessions;
    let decoderFile: string;
    let pastSession: InferenceSession;
    const graphFiles = [encoderFile];
    if (decoderFiles.kind === "merged") {
      const merged = await createSession(ort, decoderFiles.merged, options.sessionOptions);
      decoder = { kind: "merged", merged };
      decoderFile = decoderFiles.merged.path;
      pastSession = merged;
      graphFiles.push(decoderFiles.merged);
    } else {
      const withoutPast = await createSession(
        ort,
        decoderFiles.withoutPast,
        options.sessionOptions,
      );
      const withPast = await createSession(ort, decoderFiles.withPast, options.sessionOptions);
      validateDecoder(withoutPast, decoderFiles.withoutPast.path, sizes.numLayers, { past: false });
      decoder = { kind: "split", withoutPast, withPast };
      decoderFile = decoderFiles.withPast.path;
      pastSession = withPast;
      graphFiles.push(decoderFiles.withoutPast, decoderFiles.withPast);
    }
    const { pastNaming, hasCrossAttentions } = validateDecoder(
      pastSession,
      decoderFile,
      sizes.numLayers,
      {
        past: true,
        merged: decoder.kind === "merged",
      },
    );

    const files = [
      { path: "config.json", bytes: configBytes },
      { path: "preprocessor_config.json", bytes: preprocessorBytes },
      ...(generationBytes === null
        ? []
        : [{ path: "generation_config.json", bytes: generationBytes }]),
      { path: "tokenizer.json", bytes: tokenizerBytes },
      ...graphFiles,
    ];
    return new CommunityCaptioner({
      id,
      sha256: await packageSha256(files),
      config,
      tokenizer,
      pipeline,
      generation,
      ort,
      encoder,
      encoderSha256: await sha256Hex(encoderFile.bytes),
      decoder,
      decoderFile,
      geometry: {
        numLayers: sizes.numLayers,
        numHeads: sizes.numHeads,
        headDim: sizes.hiddenSize / sizes.numHeads,
        vocabSize: sizes.vocabSize,
        pastNaming,
      },
      hasCrossAttentions,
      options,
    });
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
    const { states, cache } = await this.#encoderStates(
      imageSha256,
      preprocessed.data,
      preprocessed.shape,
    );
    const encodeMs = now() - encodeStarted;

    const generateStarted = now();
    const withAttention = request.attention === true;
    const grid = withAttention ? this.#attentionGrid(states.length) : null;
    const step = new CrossAttentionDecoderStep(
      this.#ort,
      this.#decoder,
      { ...this.#geometry, clsTokens: grid === null ? 0 : states.length - grid.rows * grid.cols },
      states,
      withAttention,
    );
    const options: GenerationOptions = {
      ...this.generation.defaults,
      ...request.generation,
      bos_token_id: this.generation.decoderStartTokenId,
      eos_token_id: this.generation.eosTokenIds,
      pad_token_id: this.generation.padTokenId ?? this.generation.eosTokenIds[0] ?? null,
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

    const captions = result.sequences.map((sequence) =>
      captionHypothesis(this.tokenizer, sequence),
    );
    const image = {
      sha256: imageSha256,
      width: preprocessed.sourceWidth,
      height: preprocessed.sourceHeight,
    };
    const model = { id: this.id, sha256: this.sha256 };
    return {
      model,
      image,
      strategy: result.strategy,
      seed: result.seed,
      captions,
      attention:
        grid === null
          ? null
          : crossAttentionDocument({
              model,
              request,
              result,
              captions,
              crop: preprocessed.cropBox,
              image,
              grid,
              numLayers: this.#geometry.numLayers,
            }),
      cache,
      timings: { preprocessMs, encodeMs, generateMs, steps: result.steps },
    };
  }

  /** The grid that attention rows reshape to; throws when this package cannot produce maps. */
  #attentionGrid(encoderLength: number): { rows: number; cols: number } {
    if (!this.hasCrossAttentions) {
      throw new ModelPackageError(
        this.#decoderFile,
        "cross_attentions.0",
        "the decoder graph has no cross_attentions.{i} outputs, so attention maps are unavailable; re-export it with models/edgecap_models/community_export.py or caption without attention",
      );
    }
    const grid = this.grid;
    const clsTokens = grid === null ? -1 : encoderLength - grid.rows * grid.cols;
    if (grid === null || clsTokens < 0 || clsTokens > 2) {
      throw new ModelPackageError(
        "config.json",
        "encoder.image_size",
        `the encoder returns ${encoderLength} positions, which encoder.image_size / encoder.patch_size (${grid === null ? "not set" : `${grid.rows} x ${grid.cols}`}) plus up to 2 leading tokens does not explain, so attention rows cannot be reshaped to a patch grid`,
      );
    }
    return grid;
  }

  /** Runs the encoder, or reads its output from the cache when this image was seen before. */
  async #encoderStates(
    imageSha256: string,
    pixels: Float32Array,
    shape: readonly [number, number, number],
  ): Promise<{ states: EncoderStates; cache: CacheStatus }> {
    const { tensor, status } = await readThroughCache(
      this.#options.cache,
      {
        kind: "prefix",
        imageSha256,
        modelId: this.id,
        modelSha256: this.#encoderSha256,
        preprocessingVersion: PREPROCESSING_VERSION,
      },
      this.#options.cacheTtlSeconds,
      async () => {
        const input = new this.#ort.Tensor("float32", pixels, [1, ...shape]);
        const outputs = await this.#encoder.run({ pixel_values: input });
        const output = outputs.last_hidden_state;
        if (output === undefined) throw new Error("encoder output last_hidden_state is missing");
        return { dtype: "float32", dims: [...output.dims], data: output.data as Float32Array };
      },
      // Encoder states are [1, length, hidden]; anything else is a stale entry.
      (cached) => cached.dims.length === 3,
    );
    const [, length, hidden] = tensor.dims as [number, number, number];
    return { states: { data: tensor.data, length, hidden }, cache: status };
  }
}

function loadCommunityTokenizer(bytes: Uint8Array, vocabSize: number): CaptionTokenizer {
  const json = parseJsonFile(bytes, "tokenizer.json");
  let tokenizer: CaptionTokenizer;
  try {
    tokenizer = loadTokenizer(json);
  } catch (error) {
    throw new ModelPackageError(
      "tokenizer.json",
      null,
      `not a GPT-2 or CLIP byte-level BPE tokenizer edgecap can read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (tokenizer.vocabSize > vocabSize) {
    throw new ModelPackageError(
      "tokenizer.json",
      "model.vocab",
      `has ${tokenizer.vocabSize} ids but config.json decoder.vocab_size is ${vocabSize}; the tokenizer belongs to another model`,
    );
  }
  return tokenizer;
}
