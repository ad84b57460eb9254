// Pixel to tensor conversion with float32 arithmetic after every step, as torch and numpy do it.
// Rounding once at the end of a float64 computation differs by 1 ulp for about half of the
// (level, channel) pairs, so every intermediate goes through Math.fround.

import type { RgbImage } from "./types.ts";

/**
 * How 0-255 becomes 0-1: "divide" is torchvision ToTensor, float32(v) / float32(255) in float32;
 * "multiply_reciprocal" is transformers' rescale, float64(v) * (1 / 255) then cast to float32.
 */
export type RescaleMode = "divide" | "multiply_reciprocal";

export type ChannelTriple = readonly [number, number, number];

/** Returns, per channel, the float32 result for each of the 256 levels. */
export function normalizationTable(
  mean: ChannelTriple,
  std: ChannelTriple,
  rescale: RescaleMode,
): Float32Array[] {
  const f = Math.fround;
  return [0, 1, 2].map((channel) => {
    const channelMean = f(mean[channel] as number);
    const channelStd = f(std[channel] as number);
    const table = new Float32Array(256);
    for (let level = 0; level < 256; level++) {
      const unit = rescale === "divide" ? f(level / 255) : f(level * (1 / 255));
      table[level] = f(f(unit - channelMean) / channelStd);
    }
    return table;
  });
}

/** Converts HWC RGB to a CHW float32 tensor with (v / 255 - mean) / std per channel. */
export function toNormalizedChw(
  image: RgbImage,
  mean: ChannelTriple,
  std: ChannelTriple,
  rescale: RescaleMode,
): Float32Array {
  const tables = normalizationTable(mean, std, rescale);
  const plane = image.width * image.height;
  const out = new Float32Array(plane * 3);
  for (let channel = 0; channel < 3; channel++) {
    const table = tables[channel] as Float32Array;
    const offset = channel * plane;
    for (let i = 0; i < plane; i++) {
      out[offset + i] = table[image.data[i * 3 + channel] as number] as number;
    }
  }
  return out;
}
