// A community-layout CLIP dual encoder (onnx/vision_model.onnx and onnx/text_model.onnx, as
// optimum exports CLIPVisionModelWithProjection and CLIPTextModelWithProjection) behind the
// ClipEmbedder interface, with the same image-bytes and CLIPScore helpers as OnnxClip.
import type { ClipEmbedder } from "../../clip/embedder.ts";
import type { ClipScoreResult } from "../../clip/score.ts";
import { sha256Hex } from "../../image/hash.ts";
import { type PreprocessPipeline, preprocessImage } from "../../image/pipelines.ts";
import {
  CLIP_CONTEXT_LENGTH,
  CLIP_END_OF_TEXT_ID,
  type ClipTokenizer,
  loadClipTokenizer,
} from "../../tokenizers/clip-context.ts";
import { PREPROCESSING_VERSION } from "../captioner.ts";
import { scoreCaptionsWithClip } from "../clip-captions.ts";
import type { ImageEmbedding } from "../clip-model.ts";
import { type EmbeddingCache, readThroughCache } from "../embedding-cache.ts";
import { ModelPackageError } from "../errors.ts";
import type { InferenceSession, OrtApi } from "../ort.ts";
import { type PackageSource, requireBytes } from "../package-source.ts";
import { type CommunityClipConfig, parseCommunityClipConfig } from "./config.ts";
import { parseJsonFile } from "./json.ts";
import { requireOnnxFile } from "./layout.ts";
import { pipelineFromPreprocessorConfig } from "./preprocessor.ts";
import {
  createSession,
  packageId,
  packageSha256,
  requireInput,
  requireOutput,
} from "./sessions.ts";

export interface LoadCommunityClipOptions {
  cache?: EmbeddingCache;
  cacheTtlSeconds?: number;
  sessionOptions?: InferenceSession.SessionOptions;
  /** Model id in cache keys; defaults to config.json's _name_or_path, else the folder name. */
  id?: string;
}

/** Splits rows and scales each to unit length, because transformers' CLIP *WithProjection graphs return raw projections. */
function normalizedRows(data: Float32Array, count: number): Float32Array[] {
  const width = data.length / count;
  return Array.from({ length: count }, (_, i) => {
    const row = data.slice(i * width, (i + 1) * width);
    let sum = 0;
    for (const value of row) sum += value * value;
    const norm = Math.sqrt(sum);
    if (norm > 0) for (let j = 0; j < width; j++) row[j] = (row[j] as number) / norm;
    return row;
  });
}

export class CommunityClip implements ClipEmbedder {
  readonly id: string;
  readonly sha256: string;
  readonly config: CommunityClipConfig;
  readonly tokenizer: ClipTokenizer;
  readonly pipeline: PreprocessPipeline;
  /** Text rows are padded or cut to this many ids (text_config.max_position_embeddings, else 77). */
  readonly contextLength: number;
  readonly #ort: OrtApi;
  readonly #vision: InferenceSession;
  readonly #visionSha256: string;
  readonly #text: InferenceSession;
  readonly #options: LoadCommunityClipOptions;

  private constructor(parts: {
    id: string;
    sha256: string;
    config: CommunityClipConfig;
    tokenizer: ClipTokenizer;
    pipeline: PreprocessPipeline;
    ort: OrtApi;
    vision: InferenceSession;
    visionSha256: string;
    text: InferenceSession;
    options: LoadCommunityClipOptions;
  }) {
    this.id = parts.id;
    this.sha256 = parts.sha256;
    this.config = parts.config;
    this.tokenizer = parts.tokenizer;
    this.pipeline = parts.pipeline;
    this.contextLength = parts.config.text_config?.max_position_embeddings ?? CLIP_CONTEXT_LENGTH;
    this.#ort = parts.ort;
    this.#vision = parts.vision;
    this.#visionSha256 = parts.visionSha256;
    this.#text = parts.text;
    this.#options = parts.options;
  }

  /** Loads config.json, preprocessor_config.json, tokenizer.json and the vision and text graphs. */
  static async load(
    source: PackageSource,
    ort: OrtApi,
    options: LoadCommunityClipOptions = {},
  ): Promise<CommunityClip> {
    const configBytes = await requireBytes(source, "config.json");
    const config = parseCommunityClipConfig(configBytes);
    const id = packageId(options.id, config, source);
    const preprocessorBytes = await requireBytes(source, "preprocessor_config.json");
    const pipeline = pipelineFromPreprocessorConfig(id, preprocessorBytes);

    const tokenizerBytes = await requireBytes(source, "tokenizer.json");
    let tokenizer: ClipTokenizer;
    try {
      tokenizer = loadClipTokenizer(parseJsonFile(tokenizerBytes, "tokenizer.json"));
    } catch (error) {
      if (error instanceof ModelPackageError) throw error;
      throw new ModelPackageError(
        "tokenizer.json",
        null,
        `not a CLIP BPE tokenizer edgecap can read: ${error instanceof Error ? error.message : String(error)}`,
      );
    }

    const visionFile = await requireOnnxFile(source, "vision_model.onnx", "the CLIP image encoder");
    const textFile = await requireOnnxFile(source, "text_model.onnx", "the CLIP text encoder");
    const vision = await createSession(ort, visionFile, options.sessionOptions);
    requireInput(vision, visionFile.path, "pixel_values");
    requireOutput(vision, visionFile.path, "image_embeds");
    const text = await createSession(ort, textFile, options.sessionOptions);
    requireInput(text, textFile.path, "input_ids");
    requireOutput(text, textFile.path, "text_embeds");

    return new CommunityClip({
      id,
      sha256: await packageSha256([
        { path: "config.json", bytes: configBytes },
        { path: "preprocessor_config.json", bytes: preprocessorBytes },
        { path: "tokenizer.json", bytes: tokenizerBytes },
        visionFile,
        textFile,
      ]),
      config,
      tokenizer,
      pipeline,
      ort,
      vision,
      visionSha256: await sha256Hex(visionFile.bytes),
      text,
      options,
    });
  }

  /** Embeds `count` preprocessed images; returns unit-length embeddings. */
  async embedImages(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    if (count === 0) return [];
    const perImage = pixels.length / count;
    const side = Math.round(Math.sqrt(perImage / 3));
    const input = new this.#ort.Tensor("float32", pixels, [count, 3, side, side]);
    const outputs = await this.#vision.run({ pixel_values: input });
    const embeds = outputs.image_embeds;
    if (embeds === undefined) throw new Error("CLIP vision graph output image_embeds is missing");
    return normalizedRows(embeds.data as Float32Array, count);
  }

  /** Embeds `count` token rows; attention_mask, when the graph takes it, covers ids up to the end token. */
  async embedTexts(ids: Int32Array, count: number): Promise<Float32Array[]> {
    if (count === 0) return [];
    const context = ids.length / count;
    const Tensor = this.#ort.Tensor;
    const feeds: Record<string, InstanceType<typeof Tensor>> = {
      input_ids: new Tensor(
        "int64",
        BigInt64Array.from(ids, (id) => BigInt(id)),
        [count, context],
      ),
    };
    if (this.#text.inputNames.includes("attention_mask")) {
      const mask = new BigInt64Array(ids.length);
      for (let row = 0; row < count; row++) {
        const start = row * context;
        const end = ids.subarray(start, start + context).indexOf(CLIP_END_OF_TEXT_ID);
        mask.fill(1n, start, start + (end < 0 ? context : end + 1));
      }
      feeds.attention_mask = new Tensor("int64", mask, [count, context]);
    }
    const outputs = await this.#text.run(feeds);
    const embeds = outputs.text_embeds;
    if (embeds === undefined) throw new Error("CLIP text graph output text_embeds is missing");
    return normalizedRows(embeds.data as Float32Array, count);
  }

  /** Embeds one image file, reading and filling the embedding cache by the file's sha256. */
  async embedImageBytes(bytes: Uint8Array, maxPixels?: number): Promise<ImageEmbedding> {
    const imageSha256 = await sha256Hex(bytes);
    const { tensor, status } = await readThroughCache(
      this.#options.cache,
      {
        kind: "clip-image",
        imageSha256,
        modelId: this.id,
        modelSha256: this.#visionSha256,
        preprocessingVersion: PREPROCESSING_VERSION,
      },
      this.#options.cacheTtlSeconds,
      async () => {
        const preprocessed = await preprocessImage(
          bytes,
          this.pipeline,
          maxPixels === undefined ? {} : { maxPixels },
        );
        const [embedding] = await this.embedImages(preprocessed.data, 1);
        if (embedding === undefined) throw new Error("CLIP vision graph returned no embedding");
        return { dtype: "float32", dims: [embedding.length], data: embedding };
      },
    );
    return { embedding: tensor.data, imageSha256, cache: status };
  }

  /** Tokenises texts with the optional prefix (truncation keeps the end token) and embeds them. */
  async embedCaptions(texts: readonly string[], prefix = ""): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const rows = texts.map((text) =>
      this.tokenizer.encodeClip(prefix + text, {
        truncate: true,
        contextLength: this.contextLength,
      }),
    );
    const ids = new Int32Array(rows.length * this.contextLength);
    for (const [i, row] of rows.entries()) ids.set(row, i * this.contextLength);
    return this.embedTexts(ids, rows.length);
  }

  /** CLIPScore (and RefCLIPScore with references) of one caption per image embedding. */
  score(
    images: Float32Array[],
    captions: readonly string[],
    options: { references?: readonly (readonly string[])[]; prefix?: string } = {},
  ): Promise<ClipScoreResult> {
    return scoreCaptionsWithClip(this, images, captions, options);
  }
}
