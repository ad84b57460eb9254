// The ONNX CLIP dual encoder: image and text graphs behind the ClipEmbedder interface, with image
// embeddings cached by image hash, and CLIPScore of image bytes against captions.
import type { ClipEmbedder } from "../clip/embedder.ts";
import type { ClipScoreResult } from "../clip/score.ts";
import { sha256Hex } from "../image/hash.ts";
import { pipelineFromModelFields } from "../image/model-config.ts";
import { type PreprocessPipeline, preprocessImage } from "../image/pipelines.ts";
import { type ClipTokenizer, loadClipTokenizer } from "../tokenizers/clip-context.ts";
import { PREPROCESSING_VERSION } from "./captioner.ts";
import { scoreCaptionsWithClip } from "./clip-captions.ts";
import { type CacheStatus, type EmbeddingCache, readThroughCache } from "./embedding-cache.ts";
import { ModelPackageError } from "./errors.ts";
import { type ClipManifest, parseClipManifest, preprocessingFields } from "./manifest.ts";
import type { InferenceSession, OrtApi } from "./ort.ts";
import { type PackageSource, requireBytes, verifySha256 } from "./package-source.ts";

export interface LoadClipOptions {
  cache?: EmbeddingCache;
  cacheTtlSeconds?: number;
  verifyHashes?: boolean;
  sessionOptions?: InferenceSession.SessionOptions;
}

export interface ImageEmbedding {
  embedding: Float32Array;
  imageSha256: string;
  cache: CacheStatus;
}

function splitRows(data: Float32Array, count: number): Float32Array[] {
  const width = data.length / count;
  return Array.from({ length: count }, (_, i) => data.slice(i * width, (i + 1) * width));
}

export class OnnxClip implements ClipEmbedder {
  readonly manifest: ClipManifest;
  readonly sha256: string;
  readonly tokenizer: ClipTokenizer;
  readonly pipeline: PreprocessPipeline;
  readonly #ort: OrtApi;
  readonly #image: InferenceSession;
  readonly #text: InferenceSession;
  readonly #options: LoadClipOptions;

  private constructor(parts: {
    manifest: ClipManifest;
    sha256: string;
    tokenizer: ClipTokenizer;
    ort: OrtApi;
    image: InferenceSession;
    text: InferenceSession;
    options: LoadClipOptions;
  }) {
    this.manifest = parts.manifest;
    this.sha256 = parts.sha256;
    this.tokenizer = parts.tokenizer;
    this.#ort = parts.ort;
    this.#image = parts.image;
    this.#text = parts.text;
    this.#options = parts.options;
    this.pipeline = pipelineFromModelFields(
      parts.manifest.id,
      preprocessingFields(parts.manifest.preprocessing),
    );
  }

  /** Loads an edgecap CLIP package: manifest, tokenizer and the image and text sessions. */
  static async load(
    source: PackageSource,
    ort: OrtApi,
    options: LoadClipOptions = {},
  ): Promise<OnnxClip> {
    const manifestBytes = await requireBytes(source, "manifest.json");
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(manifestBytes));
    } catch (error) {
      throw new ModelPackageError("manifest.json", null, `invalid JSON: ${String(error)}`);
    }
    const manifest = parseClipManifest(json);
    const verify = options.verifyHashes !== false;
    const read = async (name: string): Promise<Uint8Array> => {
      const bytes = await requireBytes(source, name);
      if (verify) await verifySha256(name, bytes, manifest.files[name]?.sha256);
      return bytes;
    };

    const [imageBytes, textBytes, tokenizerBytes] = await Promise.all([
      read(manifest.image.file),
      read(manifest.text.file),
      read(manifest.tokenizer.file),
    ]);
    return new OnnxClip({
      manifest,
      sha256: await sha256Hex(manifestBytes),
      tokenizer: loadClipTokenizer(JSON.parse(new TextDecoder().decode(tokenizerBytes))),
      ort,
      image: await ort.InferenceSession.create(imageBytes, options.sessionOptions),
      text: await ort.InferenceSession.create(textBytes, options.sessionOptions),
      options,
    });
  }

  get id(): string {
    return this.manifest.id;
  }

  async embedImages(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    if (count === 0) return [];
    const perImage = pixels.length / count;
    const side = Math.round(Math.sqrt(perImage / 3));
    const input = new this.#ort.Tensor("float32", pixels, [count, 3, side, side]);
    const outputs = await this.#image.run({ pixel_values: input });
    const embeds = outputs.image_embeds;
    if (embeds === undefined) throw new Error("CLIP image graph output image_embeds is missing");
    return splitRows(embeds.data as Float32Array, count);
  }

  async embedTexts(ids: Int32Array, count: number): Promise<Float32Array[]> {
    if (count === 0) return [];
    const context = ids.length / count;
    const input = new this.#ort.Tensor(
      "int64",
      BigInt64Array.from(ids, (id) => BigInt(id)),
      [count, context],
    );
    const outputs = await this.#text.run({ input_ids: input });
    const embeds = outputs.text_embeds;
    if (embeds === undefined) throw new Error("CLIP text graph output text_embeds is missing");
    return splitRows(embeds.data as Float32Array, count);
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
        modelSha256: this.manifest.files[this.manifest.image.file]?.sha256 ?? this.sha256,
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
        if (embedding === undefined) throw new Error("CLIP image graph returned no embedding");
        return { dtype: "float32", dims: [embedding.length], data: embedding };
      },
    );
    return { embedding: tensor.data, imageSha256, cache: status };
  }

  /** Tokenises texts with the optional prefix (truncation keeps the end token) and embeds them. */
  async embedCaptions(texts: readonly string[], prefix = ""): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const rows = texts.map((text) => this.tokenizer.encodeClip(prefix + text, { truncate: true }));
    const width = rows[0]?.length ?? 0;
    const ids = new Int32Array(rows.length * width);
    for (const [i, row] of rows.entries()) ids.set(row, i * width);
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
