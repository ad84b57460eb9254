// Build-time rendering of one token's attention map to a PNG: normalise to the map's peak,
// upsample over the crop box's aspect ratio, colour with the site's scale, encode.
import { encode } from "fast-png";
import { colourPixels, colourTable } from "./colour.ts";
import { normaliseToMax } from "./normalise.ts";
import { type CropBox, type GridSize, overlaySize, upsampleBilinear } from "./upsample.ts";

/** Longer side of the static heatmaps in pixels; the grid shows them at about this size. */
export const STATIC_MAP_SIZE = 112;

// Same opacity as the interactive view (scripts/token-explorer.ts), so both views look alike.
const MAX_ALPHA = 200;

let table: Uint8Array | undefined;

/** Encodes the heatmap of one attention row as an RGBA PNG. */
export function renderHeatmapPng(
  attention: readonly number[],
  grid: GridSize,
  crop: CropBox,
): Uint8Array<ArrayBuffer> {
  table ??= colourTable();
  const { width, height } = overlaySize(crop, STATIC_MAP_SIZE);
  const values = upsampleBilinear(normaliseToMax(attention), grid, width, height);
  const pixels = colourPixels(values, table, MAX_ALPHA);
  const png = encode({ width, height, data: new Uint8Array(pixels.buffer), channels: 4, depth: 8 });
  // fast-png types its output over ArrayBufferLike; Response needs a plain ArrayBuffer view.
  return new Uint8Array(png.buffer as ArrayBuffer, png.byteOffset, png.byteLength);
}
