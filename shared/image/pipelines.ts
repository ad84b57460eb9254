import { type DecodeOptions, decodeImage } from "./decode.ts";
import { PreprocessConfigError } from "./errors.ts";
import { centerCrop, shorterSideSize } from "./geometry.ts";
import { type ChannelTriple, type RescaleMode, toNormalizedChw } from "./normalize.ts";
import { type ResampleFilter, resizeRgb } from "./resample.ts";
import type { DecodedImage, RgbImage } from "./types.ts";

/** A complete preprocessing recipe: resize, optional center crop, rescale and normalize. */
export interface PreprocessPipeline {
  name: string;
  /** `shorter_side`: torchvision Resize(int), aspect kept; `exact`: both sides set, aspect not kept. */
  resize: { kind: "shorter_side"; size: number } | { kind: "exact"; width: number; height: number };
  resample: ResampleFilter;
  crop: { width: number; height: number } | null;
  mean: ChannelTriple;
  std: ChannelTriple;
  rescale: RescaleMode;
}

const CLIP_MEAN: ChannelTriple = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: ChannelTriple = [0.26862954, 0.26130258, 0.27577711];
const HALF: ChannelTriple = [0.5, 0.5, 0.5];

/** timm's eval resize: floor(input size / crop_pct), 248 for 224 and crop_pct 0.9. */
const TIMM_VIT_RESIZE = Math.floor(224 / 0.9);

/** The named presets, each reproducing the Python preprocessing it is named after. */
export const PIPELINES = {
  /** openai/CLIP `_transform(224)`: Resize(224, bicubic), CenterCrop(224), ToTensor, Normalize. */
  clip_vit_b32: {
    name: "clip_vit_b32",
    resize: { kind: "shorter_side", size: 224 },
    resample: "bicubic",
    crop: { width: 224, height: 224 },
    mean: CLIP_MEAN,
    std: CLIP_STD,
    rescale: "divide",
  },
  /** transformers ViTImageProcessor (PIL-based) for google/vit-base-patch16-224: 224x224 bilinear. */
  hf_vit_base_patch16_224: {
    name: "hf_vit_base_patch16_224",
    resize: { kind: "exact", width: 224, height: 224 },
    resample: "bilinear",
    crop: null,
    mean: HALF,
    std: HALF,
    rescale: "multiply_reciprocal",
  },
  /** timm transforms_imagenet_eval for vit_base_patch16_224: Resize(248, bicubic), CenterCrop(224). */
  timm_vit_base_patch16_224: {
    name: "timm_vit_base_patch16_224",
    resize: { kind: "shorter_side", size: TIMM_VIT_RESIZE },
    resample: "bicubic",
    crop: { width: 224, height: 224 },
    mean: HALF,
    std: HALF,
    rescale: "divide",
  },
} as const satisfies Record<string, PreprocessPipeline>;

export type PipelineName = keyof typeof PIPELINES;

/** Crop window in the pixels of the decoded (EXIF-oriented) image, for overlays such as attention. */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface PreprocessedImage {
  /** float32, channels first (C, H, W). */
  data: Float32Array;
  shape: [3, number, number];
  /** Region of the decoded image that the tensor covers; fractional after a resize. */
  cropBox: CropBox;
  /** Crop offsets in the resized image (torchvision CenterCrop); 0, 0 without a crop. */
  cropLeft: number;
  cropTop: number;
  /** Size after the resize step, before the crop. */
  resizedWidth: number;
  resizedHeight: number;
  /** Size of the decoded image after EXIF orientation. */
  sourceWidth: number;
  sourceHeight: number;
}

/** Runs a pipeline on decoded RGB pixels. */
export function preprocessRgb(image: RgbImage, pipeline: PreprocessPipeline): PreprocessedImage {
  const target =
    pipeline.resize.kind === "shorter_side"
      ? shorterSideSize(image.width, image.height, pipeline.resize.size)
      : { width: pipeline.resize.width, height: pipeline.resize.height };
  const resized = resizeRgb(image, target.width, target.height, pipeline.resample);

  let cropped = resized;
  let left = 0;
  let top = 0;
  if (pipeline.crop) {
    const crop = centerCrop(resized, pipeline.crop.width, pipeline.crop.height);
    cropped = crop.image;
    left = crop.left;
    top = crop.top;
  }

  // Map the crop window back through the resize; each axis has its own scale when the aspect changes.
  const scaleX = image.width / resized.width;
  const scaleY = image.height / resized.height;
  return {
    data: toNormalizedChw(cropped, pipeline.mean, pipeline.std, pipeline.rescale),
    shape: [3, cropped.height, cropped.width],
    cropBox: {
      left: left * scaleX,
      top: top * scaleY,
      width: cropped.width * scaleX,
      height: cropped.height * scaleY,
    },
    cropLeft: left,
    cropTop: top,
    resizedWidth: resized.width,
    resizedHeight: resized.height,
    sourceWidth: image.width,
    sourceHeight: image.height,
  };
}

/** Decodes image bytes and runs a pipeline (a preset name or a PreprocessPipeline). */
export async function preprocessImage(
  bytes: Uint8Array,
  pipeline: PipelineName | PreprocessPipeline,
  options: DecodeOptions = {},
): Promise<PreprocessedImage & { decoded: DecodedImage }> {
  const recipe = typeof pipeline === "string" ? PIPELINES[pipeline] : pipeline;
  if (!recipe) {
    throw new PreprocessConfigError(
      `Unknown preprocessing pipeline "${String(pipeline)}". Use one of ${Object.keys(PIPELINES).join(", ")}.`,
    );
  }
  const decoded = await decodeImage(bytes, options);
  return { ...preprocessRgb(decoded, recipe), decoded };
}
