// One entry point per model kind that loads either package layout: an edgecap package
// (manifest.json, docs/model-package.md) or the community layout of optimum and transformers.js
// (config.json with ONNX graphs under onnx/ or in the root).
import type { ClipEmbedder } from "../clip/embedder.ts";
import type { ClipScoreResult } from "../clip/score.ts";
import type { PreprocessPipeline } from "../image/pipelines.ts";
import type { CaptionTokenizer } from "../tokenizers/tokenizer.ts";
import {
  type CaptionRequest,
  type CaptionResult,
  type LoadCaptionerOptions,
  OnnxCaptioner,
} from "./captioner.ts";
import { type ImageEmbedding, type LoadClipOptions, OnnxClip } from "./clip-model.ts";
import { CommunityCaptioner } from "./community/captioner.ts";
import { CommunityClip } from "./community/clip.ts";
import { detectPackageLayout } from "./community/layout.ts";
import type { OrtApi } from "./ort.ts";
import type { PackageSource } from "./package-source.ts";

/** The captioner API shared by both layouts. */
export interface Captioner {
  readonly id: string;
  readonly sha256: string;
  readonly tokenizer: CaptionTokenizer;
  readonly pipeline: PreprocessPipeline;
  caption(imageBytes: Uint8Array, request?: CaptionRequest): Promise<CaptionResult>;
}

/** The CLIP model API shared by both layouts. */
export interface ClipModel extends ClipEmbedder {
  readonly id: string;
  readonly sha256: string;
  embedImageBytes(bytes: Uint8Array, maxPixels?: number): Promise<ImageEmbedding>;
  embedCaptions(texts: readonly string[], prefix?: string): Promise<Float32Array[]>;
  score(
    images: Float32Array[],
    captions: readonly string[],
    options?: { references?: readonly (readonly string[])[]; prefix?: string },
  ): Promise<ClipScoreResult>;
}

export interface LoadPackageOptions extends LoadCaptionerOptions {
  /** Model id of a community package; edgecap packages take theirs from the manifest. */
  id?: string;
}

/**
 * Loads a captioner package of either layout. `verifyHashes` applies to edgecap packages, whose
 * manifest records every file's sha256; community packages carry no hashes to check against.
 */
export async function loadCaptionerPackage(
  source: PackageSource,
  ort: OrtApi,
  options: LoadPackageOptions = {},
): Promise<Captioner> {
  const detected = await detectPackageLayout(source);
  if (detected.layout === "edgecap") return OnnxCaptioner.load(detected.source, ort, options);
  return CommunityCaptioner.load(detected.source, ort, {
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    ...(options.cacheTtlSeconds === undefined ? {} : { cacheTtlSeconds: options.cacheTtlSeconds }),
    ...(options.sessionOptions === undefined ? {} : { sessionOptions: options.sessionOptions }),
    ...(options.id === undefined ? {} : { id: options.id }),
  });
}

/** Loads a CLIP package of either layout. */
export async function loadClipPackage(
  source: PackageSource,
  ort: OrtApi,
  options: LoadClipOptions & { id?: string } = {},
): Promise<ClipModel> {
  const detected = await detectPackageLayout(source);
  if (detected.layout === "edgecap") return OnnxClip.load(detected.source, ort, options);
  return CommunityClip.load(detected.source, ort, {
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    ...(options.cacheTtlSeconds === undefined ? {} : { cacheTtlSeconds: options.cacheTtlSeconds }),
    ...(options.sessionOptions === undefined ? {} : { sessionOptions: options.sessionOptions }),
    ...(options.id === undefined ? {} : { id: options.id }),
  });
}
