// The captioning runtime: model packages, ONNX sessions, the embedding cache. See docs/model-package.md.

export {
  type CaptionGenerationOptions,
  type CaptionHypothesis,
  type CaptionRequest,
  type CaptionResult,
  type CaptionToken,
  type LoadCaptionerOptions,
  OnnxCaptioner,
  PREPROCESSING_VERSION,
} from "./captioner.ts";
export { type ImageEmbedding, type LoadClipOptions, OnnxClip } from "./clip-model.ts";
export { CommunityCaptioner } from "./community/captioner.ts";
export { CommunityClip } from "./community/clip.ts";
export {
  type CachedTensor,
  decodeCachedTensor,
  type EmbeddingCache,
  embeddingCacheKey,
  encodeCachedTensor,
  MemoryEmbeddingCache,
} from "./embedding-cache.ts";
export { ModelPackageError } from "./errors.ts";
export {
  type Captioner,
  type ClipModel,
  type LoadPackageOptions,
  loadCaptionerPackage,
  loadClipPackage,
} from "./load-package.ts";
export {
  type CaptionerManifest,
  type ClipManifest,
  MODEL_PACKAGE_SCHEMA,
  parseCaptionerManifest,
  parseClipManifest,
} from "./manifest.ts";
export type { OrtApi } from "./ort.ts";
export { fetchPackageSource, memoryPackageSource, type PackageSource } from "./package-source.ts";
