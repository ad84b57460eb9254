import { PreprocessConfigError } from "./errors.ts";
import type { ChannelTriple, RescaleMode } from "./normalize.ts";
import type { PreprocessPipeline } from "./pipelines.ts";
import type { ResampleFilter } from "./resample.ts";

/**
 * Preprocessing fields as a model package states them. `size` as a number resizes the shorter
 * side to it (torchvision Resize(int)); as { width, height } it resizes to exactly that size.
 * `crop` as a number is a square center crop; null or absent means no crop. `rescale` defaults to
 * "divide" (torchvision ToTensor).
 */
export interface ModelPreprocessingFields {
  size: number | { width: number; height: number };
  resample: ResampleFilter;
  crop?: number | { width: number; height: number } | null;
  mean: readonly number[];
  std: readonly number[];
  rescale?: RescaleMode;
}

/** Validates a model package's preprocessing fields and builds the matching pipeline. */
export function pipelineFromModelFields(
  name: string,
  fields: ModelPreprocessingFields,
): PreprocessPipeline {
  const resize =
    typeof fields.size === "number"
      ? { kind: "shorter_side" as const, size: positiveInteger("size", fields.size) }
      : {
          kind: "exact" as const,
          width: positiveInteger("size.width", fields.size?.width),
          height: positiveInteger("size.height", fields.size?.height),
        };

  if (fields.resample !== "bilinear" && fields.resample !== "bicubic") {
    throw new PreprocessConfigError(
      `Preprocessing field resample is ${JSON.stringify(fields.resample)}. Use "bilinear" or "bicubic".`,
    );
  }

  let crop: PreprocessPipeline["crop"] = null;
  if (typeof fields.crop === "number") {
    const side = positiveInteger("crop", fields.crop);
    crop = { width: side, height: side };
  } else if (fields.crop) {
    crop = {
      width: positiveInteger("crop.width", fields.crop.width),
      height: positiveInteger("crop.height", fields.crop.height),
    };
  }

  const rescale = fields.rescale ?? "divide";
  if (rescale !== "divide" && rescale !== "multiply_reciprocal") {
    throw new PreprocessConfigError(
      `Preprocessing field rescale is ${JSON.stringify(rescale)}. Use "divide" or "multiply_reciprocal".`,
    );
  }

  return {
    name,
    resize,
    resample: fields.resample,
    crop,
    mean: channelTriple("mean", fields.mean, false),
    std: channelTriple("std", fields.std, true),
    rescale,
  };
}

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new PreprocessConfigError(
      `Preprocessing field ${field} is ${JSON.stringify(value)}. It must be a positive integer number of pixels.`,
    );
  }
  return value;
}

function channelTriple(field: string, value: unknown, positive: boolean): ChannelTriple {
  const valid =
    Array.isArray(value) &&
    value.length === 3 &&
    value.every((v) => typeof v === "number" && Number.isFinite(v) && (!positive || v > 0));
  if (!valid) {
    const rule = positive ? "three positive numbers" : "three finite numbers";
    throw new PreprocessConfigError(
      `Preprocessing field ${field} is ${JSON.stringify(value)}. It must be ${rule} (R, G, B).`,
    );
  }
  return [value[0], value[1], value[2]] as ChannelTriple;
}
