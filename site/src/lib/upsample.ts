// Upsampling of a patch grid to pixels, and the placement of the result over the image. The grid
// of an attention map covers the `crop` box of the original image (see docs/attention-schema.md),
// not the whole image, because a centre crop drops the borders before the encoder receives the image.

export interface GridSize {
  rows: number;
  cols: number;
}

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Resamples a row-major `rows` x `cols` grid to `width` x `height` pixels by bilinear
 * interpolation. Pixel and cell centres are aligned (the `align_corners=False` convention of
 * PyTorch), so each cell's value sits at its centre and the border cells extend to the edge.
 */
export function upsampleBilinear(
  grid: ArrayLike<number>,
  size: GridSize,
  width: number,
  height: number,
): Float32Array {
  const { rows, cols } = size;
  if (grid.length !== rows * cols) {
    throw new RangeError(`grid has ${grid.length} values; expected rows * cols = ${rows * cols}`);
  }
  for (const [name, value] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }

  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const [r0, r1, fy] = sourcePosition(y, height, rows);
    for (let x = 0; x < width; x++) {
      const [c0, c1, fx] = sourcePosition(x, width, cols);
      const top = lerp(grid[r0 * cols + c0] as number, grid[r0 * cols + c1] as number, fx);
      const bottom = lerp(grid[r1 * cols + c0] as number, grid[r1 * cols + c1] as number, fx);
      out[y * width + x] = lerp(top, bottom, fy);
    }
  }
  return out;
}

/** Maps output pixel `i` of `outSize` to its two neighbouring source cells and the weight of the second. */
function sourcePosition(i: number, outSize: number, inSize: number): [number, number, number] {
  const position = Math.min(inSize - 1, Math.max(0, ((i + 0.5) * inSize) / outSize - 0.5));
  const lower = Math.floor(position);
  return [lower, Math.min(inSize - 1, lower + 1), position - lower];
}

function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

/**
 * Returns the pixel size of an upsampled map whose longer side is `longSide` pixels and whose
 * aspect ratio is the crop box's, so the map is not stretched when laid over the crop.
 */
export function overlaySize(crop: CropBox, longSide: number): { width: number; height: number } {
  if (crop.width <= 0 || crop.height <= 0) {
    throw new RangeError(`crop box must have a positive size, got ${crop.width} x ${crop.height}`);
  }
  const scale = longSide / Math.max(crop.width, crop.height);
  return {
    width: Math.max(1, Math.round(crop.width * scale)),
    height: Math.max(1, Math.round(crop.height * scale)),
  };
}

export interface OverlayPlacement {
  /** Offsets and size of the crop box in percent of the image's width and height. */
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Places the crop box over the displayed image in percent of the image size, for CSS
 * `inset-inline-start`, `inset-block-start`, `inline-size` and `block-size`.
 * Throws when the box lies outside the image, because the map would then be drawn in the wrong place.
 */
export function placeCropBox(
  crop: CropBox,
  image: { width: number; height: number },
): OverlayPlacement {
  const fits =
    crop.left >= 0 &&
    crop.top >= 0 &&
    crop.width > 0 &&
    crop.height > 0 &&
    crop.left + crop.width <= image.width &&
    crop.top + crop.height <= image.height;
  if (!fits) {
    throw new RangeError(
      `crop box ${JSON.stringify(crop)} does not fit in a ${image.width} x ${image.height} image`,
    );
  }
  return {
    left: (100 * crop.left) / image.width,
    top: (100 * crop.top) / image.height,
    width: (100 * crop.width) / image.width,
    height: (100 * crop.height) / image.height,
  };
}
