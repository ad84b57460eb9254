// Resampling that reproduces Pillow 9.4's Image.resize for 8-bit RGB images with the BILINEAR
// and BICUBIC filters (libImaging/Resample.c): a separable convolution, horizontal pass first,
// whose support widens by the downscale factor (antialiasing), with 22-bit fixed-point weights.
// The intermediate image between the passes is rounded and clipped to 8 bits, as in Pillow.

import type { RgbImage } from "./types.ts";

export type ResampleFilter = "bilinear" | "bicubic";

interface Filter {
  support: number;
  weight(x: number): number;
}

const BICUBIC_A = -0.5;

const FILTERS: Record<ResampleFilter, Filter> = {
  bilinear: {
    support: 1,
    weight(x) {
      const t = Math.abs(x);
      return t < 1 ? 1 - t : 0;
    },
  },
  bicubic: {
    // Keys' cubic convolution kernel with a = -0.5.
    support: 2,
    weight(x) {
      const t = Math.abs(x);
      if (t < 1) return ((BICUBIC_A + 2) * t - (BICUBIC_A + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * BICUBIC_A;
      return 0;
    },
  },
};

/** 32 bits minus 8 bits of pixel value minus 2 bits of headroom for negative lobes and sums. */
const PRECISION_BITS = 22;
const ROUNDING = 1 << (PRECISION_BITS - 1);
const SCALE = 1 << PRECISION_BITS;

/** For each output index: the first input index and the fixed-point weights of its window. */
interface Coefficients {
  starts: Int32Array;
  counts: Int32Array;
  /** Row-major, `stride` weights per output index. */
  weights: Int32Array;
  stride: number;
}

function computeCoefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const stride = Math.ceil(support) * 2 + 1;

  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const weights = new Int32Array(outSize * stride);
  const window = new Float64Array(stride);
  // Pillow multiplies by the reciprocal rather than dividing, which can differ in the last bit.
  const inverseFilterScale = 1 / filterScale;

  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    // C casts truncate toward zero; the clamps keep the window inside the input.
    const first = Math.max(0, Math.trunc(center - support + 0.5));
    const last = Math.min(inSize, Math.trunc(center + support + 0.5));
    const count = last - first;

    let total = 0;
    for (let j = 0; j < count; j++) {
      const w = filter.weight((j + first - center + 0.5) * inverseFilterScale);
      window[j] = w;
      total += w;
    }
    for (let j = 0; j < count; j++) {
      const normalized = total !== 0 ? (window[j] as number) / total : (window[j] as number);
      // Round half away from zero, then truncate, as Pillow's normalize_coeffs_8bpc does.
      weights[i * stride + j] = Math.trunc(
        normalized < 0 ? normalized * SCALE - 0.5 : normalized * SCALE + 0.5,
      );
    }
    starts[i] = first;
    counts[i] = count;
  }
  return { starts, counts, weights, stride };
}

function clip8(sum: number): number {
  // `sum` fits in int32 (max |sum| is about 255 * 1.25 * 2^22), so >> is Pillow's shift.
  const value = sum >> PRECISION_BITS;
  return Math.max(0, Math.min(value, 255));
}

function resampleHorizontal(image: RgbImage, outWidth: number, c: Coefficients): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(outWidth * height * 3);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < outWidth; x++) {
      const first = c.starts[x] as number;
      const count = c.counts[x] as number;
      const k = x * c.stride;
      let r = ROUNDING;
      let g = ROUNDING;
      let b = ROUNDING;
      for (let j = 0; j < count; j++) {
        const w = c.weights[k + j] as number;
        const p = row + (first + j) * 3;
        r += (data[p] as number) * w;
        g += (data[p + 1] as number) * w;
        b += (data[p + 2] as number) * w;
      }
      const o = (y * outWidth + x) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return { width: outWidth, height, data: out };
}

function resampleVertical(image: RgbImage, outHeight: number, c: Coefficients): RgbImage {
  const { width, data } = image;
  const out = new Uint8Array(width * outHeight * 3);
  const rowLength = width * 3;
  for (let y = 0; y < outHeight; y++) {
    const first = c.starts[y] as number;
    const count = c.counts[y] as number;
    const k = y * c.stride;
    for (let i = 0; i < rowLength; i++) {
      let sum = ROUNDING;
      for (let j = 0; j < count; j++) {
        sum += (data[(first + j) * rowLength + i] as number) * (c.weights[k + j] as number);
      }
      out[y * rowLength + i] = clip8(sum);
    }
  }
  return { width, height: outHeight, data: out };
}

/**
 * Resizes to exactly `width` x `height`. Like Pillow, each pass runs only when its axis changes
 * size, and a same-size request returns a copy.
 */
export function resizeRgb(
  image: RgbImage,
  width: number,
  height: number,
  filterName: ResampleFilter,
): RgbImage {
  const filter = FILTERS[filterName];
  let result: RgbImage = image;
  if (width !== image.width) {
    result = resampleHorizontal(result, width, computeCoefficients(image.width, width, filter));
  }
  if (height !== image.height) {
    result = resampleVertical(result, height, computeCoefficients(image.height, height, filter));
  }
  return result === image ? { width, height, data: image.data.slice() } : result;
}
