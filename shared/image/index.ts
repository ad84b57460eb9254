// Image decoding and preprocessing that reproduces Pillow 9.4 and the CLIP, transformers and timm
// preprocessors, in workerd, Node and browsers. See docs/preprocessing.md.

export { type ImageCodecSources, imageCodecsReady, initImageCodecs } from "./codecs.ts";
export {
  assertPixelLimit,
  type DecodeOptions,
  decodeImage,
  PILLOW_MAX_IMAGE_PIXELS,
  probeImage,
} from "./decode.ts";
export { ImageDecodeError, type ImageErrorCode, PreprocessConfigError } from "./errors.ts";
export { centerCrop, roundHalfEven, shorterSideSize } from "./geometry.ts";
export { sha256Hex } from "./hash.ts";
export { type ModelPreprocessingFields, pipelineFromModelFields } from "./model-config.ts";
export { normalizationTable, type RescaleMode, toNormalizedChw } from "./normalize.ts";
export { applyExifOrientation } from "./orientation.ts";
export {
  type CropBox,
  PIPELINES,
  type PipelineName,
  type PreprocessedImage,
  type PreprocessPipeline,
  preprocessImage,
  preprocessRgb,
} from "./pipelines.ts";
export { type ResampleFilter, resizeRgb } from "./resample.ts";
export { detectImageType, type ImageType } from "./sniff.ts";
export type { DecodedImage, ImageHeader, RgbImage } from "./types.ts";
