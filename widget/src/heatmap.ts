// Draws one token's attention grid as a translucent heatmap over the part of the displayed image
// that the grid covers (the attention document's `crop`, scaled from original to displayed pixels).
import type { CropBox } from "./response.ts";

/**
 * The inferno colour map at 0, 0.25, 0.5, 0.75 and 1, as d3-scale-chromatic 3's interpolateInferno
 * gives it.
 */
export const COLOUR_STOPS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];

/** Maps t in 0..1 to an RGB triple by linear interpolation between the stops. */
export function colourAt(t: number): [number, number, number] {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const position = clamped * (COLOUR_STOPS.length - 1);
  const lower = Math.min(Math.floor(position), COLOUR_STOPS.length - 2);
  const fraction = position - lower;
  const from = COLOUR_STOPS[lower] as readonly [number, number, number];
  const to = COLOUR_STOPS[lower + 1] as readonly [number, number, number];
  return [0, 1, 2].map((channel) =>
    Math.round(
      (from[channel] as number) + ((to[channel] as number) - (from[channel] as number)) * fraction,
    ),
  ) as [number, number, number];
}

/** Builds the legend's CSS gradient from the same stops as the heatmap. */
export function legendGradient(): string {
  const stops = COLOUR_STOPS.map(
    ([r, g, b], i) => `rgb(${r} ${g} ${b}) ${(i * 100) / (COLOUR_STOPS.length - 1)}%`,
  );
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

export interface HeatmapPlacement {
  /** Width and height of the original image, the coordinate system of `crop`. */
  imageSize: { width: number; height: number };
  crop: CropBox;
  /** The `<img>` as laid out now, in CSS pixels. */
  displayed: { width: number; height: number };
}

/** Positions the canvas over the crop box and returns its size in CSS pixels. */
export function placeOverlay(
  canvas: HTMLCanvasElement,
  placement: HeatmapPlacement,
): { width: number; height: number } {
  const scaleX = placement.displayed.width / placement.imageSize.width;
  const scaleY = placement.displayed.height / placement.imageSize.height;
  const box = {
    left: placement.crop.left * scaleX,
    top: placement.crop.top * scaleY,
    width: placement.crop.width * scaleX,
    height: placement.crop.height * scaleY,
  };
  canvas.style.left = `${box.left}px`;
  canvas.style.top = `${box.top}px`;
  canvas.style.width = `${box.width}px`;
  canvas.style.height = `${box.height}px`;
  return box;
}

/**
 * Paints the grid with a per-token min-max scale: the token's smallest patch share gets the first
 * colour and its largest the last, so that near-uniform maps still show their structure. Opacity
 * grows with the scaled value. Returns the smallest and largest share (0..1) for the legend.
 */
export function drawHeatmap(
  canvas: HTMLCanvasElement,
  grid: { rows: number; cols: number },
  attention: readonly number[],
  size: { width: number; height: number },
): { min: number; max: number } {
  const ratio = globalThis.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(size.width * ratio));
  canvas.height = Math.max(1, Math.round(size.height * ratio));
  const context = canvas.getContext("2d");
  const min = Math.min(...attention);
  const max = Math.max(...attention);
  if (context === null) return { min, max };

  const range = max - min;
  const cells = new ImageData(grid.cols, grid.rows);
  for (let i = 0; i < grid.rows * grid.cols; i++) {
    const t = range > 0 ? ((attention[i] ?? 0) - min) / range : 0;
    const [r, g, b] = colourAt(t);
    cells.data.set([r, g, b, Math.round(255 * (0.15 + 0.7 * t))], i * 4);
  }

  // One pixel per patch, then a smoothed upscale to the crop box.
  const small = document.createElement("canvas");
  small.width = grid.cols;
  small.height = grid.rows;
  small.getContext("2d")?.putImageData(cells, 0, 0);
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = "high";
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
  return { min, max };
}

/** Averages the maps of tokens that render as one character, keeping the sum at 1. */
export function mergeMaps(maps: ReadonlyArray<readonly number[]>): number[] {
  const first = maps[0];
  if (first === undefined) return [];
  const merged = first.map(
    (_, i) => maps.reduce((sum, map) => sum + (map[i] ?? 0), 0) / maps.length,
  );
  return merged;
}
