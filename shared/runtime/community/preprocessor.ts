// preprocessor_config.json (transformers' image processors: ViTImageProcessor, CLIPImageProcessor,
// ...) mapped onto edgecap's preprocessing pipeline. Only what the pipeline reproduces exactly is
// accepted; anything else is a ModelPackageError naming the field, never a silent approximation.
import { PreprocessConfigError } from "../../image/errors.ts";
import {
  type ModelPreprocessingFields,
  pipelineFromModelFields,
} from "../../image/model-config.ts";
import type { PreprocessPipeline } from "../../image/pipelines.ts";
import type { ResampleFilter } from "../../image/resample.ts";
import { ModelPackageError } from "../errors.ts";
import { parseJsonFile } from "./json.ts";

const FILE = "preprocessor_config.json";

/** PIL's filter codes as image processors store them: 2 is BILINEAR, 3 is BICUBIC. */
const RESAMPLE_CODES: Record<number, ResampleFilter> = { 2: "bilinear", 3: "bicubic" };
const PIL_FILTER_NAMES: Record<number, string> = {
  0: "NEAREST",
  1: "LANCZOS",
  4: "BOX",
  5: "HAMMING",
};

/** transformers' defaults for the fields an image processor may leave out (ViTImageProcessor). */
const DEFAULT_RESAMPLE = 2;
const IMAGENET_STANDARD = [0.5, 0.5, 0.5];

function fail(field: string | null, message: string): never {
  throw new ModelPackageError(FILE, field, message);
}

function optionalBoolean(
  config: Record<string, unknown>,
  field: string,
  fallback: boolean,
): boolean {
  const value = config[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean")
    fail(field, `must be true or false, found ${JSON.stringify(value)}`);
  return value;
}

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    fail(field, `must be a positive integer number of pixels, found ${JSON.stringify(value)}`);
  }
  return value;
}

/** `size` as {height, width} (exact), {shortest_edge} (shorter side, aspect kept) or a legacy number. */
function resizeSize(
  config: Record<string, unknown>,
  legacyNumberIsShortestEdge: boolean,
): ModelPreprocessingFields["size"] {
  const size = config.size;
  if (typeof size === "number") {
    const side = positiveInteger("size", size);
    return legacyNumberIsShortestEdge ? side : { width: side, height: side };
  }
  if (size === null || typeof size !== "object") {
    fail(
      "size",
      `missing or invalid: expected {"height", "width"} or {"shortest_edge"}, found ${JSON.stringify(size)}`,
    );
  }
  const fields = size as Record<string, unknown>;
  if (fields.height !== undefined || fields.width !== undefined) {
    return {
      width: positiveInteger("size.width", fields.width),
      height: positiveInteger("size.height", fields.height),
    };
  }
  if (fields.shortest_edge !== undefined) {
    if (fields.longest_edge !== undefined) {
      fail(
        "size.longest_edge",
        "a longest_edge limit is not supported; remove it or use height and width",
      );
    }
    return positiveInteger("size.shortest_edge", fields.shortest_edge);
  }
  return fail(
    "size",
    `expected {"height", "width"} or {"shortest_edge"}, found ${JSON.stringify(size)}`,
  );
}

function cropSize(config: Record<string, unknown>): ModelPreprocessingFields["crop"] {
  if (!optionalBoolean(config, "do_center_crop", false)) return null;
  const crop = config.crop_size;
  if (typeof crop === "number") return positiveInteger("crop_size", crop);
  if (crop === null || typeof crop !== "object") {
    return fail(
      "crop_size",
      `do_center_crop is true but crop_size is ${JSON.stringify(crop)}; set {"height", "width"}`,
    );
  }
  const fields = crop as Record<string, unknown>;
  return {
    width: positiveInteger("crop_size.width", fields.width),
    height: positiveInteger("crop_size.height", fields.height),
  };
}

function channelValues(
  config: Record<string, unknown>,
  field: string,
  fallback: number[],
): number[] {
  const value = config[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value === "number") return [value, value, value];
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === "number")) {
    fail(field, `must be three numbers (R, G, B), found ${JSON.stringify(value)}`);
  }
  return value as number[];
}

/** Builds the preprocessing pipeline that preprocessor_config.json describes. */
export function pipelineFromPreprocessorConfig(
  name: string,
  bytes: Uint8Array,
): PreprocessPipeline {
  const json = parseJsonFile(bytes, FILE);
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    fail(null, "expected a JSON object");
  }
  const config = json as Record<string, unknown>;

  if (!optionalBoolean(config, "do_resize", true)) {
    fail(
      "do_resize",
      "is false, but the encoder needs a fixed input size; set do_resize true and size",
    );
  }
  const processorType = String(config.image_processor_type ?? config.feature_extractor_type ?? "");
  // CLIP's processors read a bare number as the shortest edge; ViT's as a square.
  const size = resizeSize(config, processorType.startsWith("CLIP"));

  const resampleCode = config.resample ?? DEFAULT_RESAMPLE;
  const resample = typeof resampleCode === "number" ? RESAMPLE_CODES[resampleCode] : undefined;
  if (resample === undefined) {
    const filter =
      typeof resampleCode === "number" ? (PIL_FILTER_NAMES[resampleCode] ?? "unknown") : "unknown";
    fail(
      "resample",
      `${JSON.stringify(resampleCode)} (${filter}) is not supported; use 2 (bilinear) or 3 (bicubic)`,
    );
  }

  // transformers rescales in float64 (pixels * rescale_factor) before the float32 cast, which the
  // pipeline's "multiply_reciprocal" mode reproduces for the factor 1/255 only.
  if (!optionalBoolean(config, "do_rescale", true)) {
    fail(
      "do_rescale",
      "is false; edgecap feeds pixels scaled to 0..1, so set do_rescale true with rescale_factor 1/255",
    );
  }
  const rescaleFactor = config.rescale_factor ?? 1 / 255;
  if (typeof rescaleFactor !== "number" || Math.abs(rescaleFactor - 1 / 255) > 1e-12) {
    fail(
      "rescale_factor",
      `must be 1/255 (0.00392156862745098), found ${JSON.stringify(rescaleFactor)}`,
    );
  }

  const normalize = optionalBoolean(config, "do_normalize", true);
  const mean = normalize ? channelValues(config, "image_mean", IMAGENET_STANDARD) : [0, 0, 0];
  const std = normalize ? channelValues(config, "image_std", IMAGENET_STANDARD) : [1, 1, 1];

  try {
    return pipelineFromModelFields(name, {
      size,
      resample,
      crop: cropSize(config),
      mean,
      std,
      rescale: "multiply_reciprocal",
    });
  } catch (error) {
    if (error instanceof PreprocessConfigError) fail(null, error.message);
    throw error;
  }
}
