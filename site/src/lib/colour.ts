// The one colour scale of the attention maps. The heatmaps (built at build time and drawn in the
// browser) and their legends all read colours from here, so a legend always matches its map.
// Viridis is perceptually uniform and readable with the common colour-vision deficiencies.
import { interpolateViridis } from "d3-scale-chromatic";

/** CSS colour of a normalised value; values outside [0, 1] are clamped. */
export function attentionColour(t: number): string {
  return interpolateViridis(clampUnit(t));
}

/** Returns `count` evenly spaced colours from 0 to 1, for the stops of a legend gradient. */
export function colourStops(count: number): { offset: number; colour: string }[] {
  if (!Number.isInteger(count) || count < 2) {
    throw new RangeError(`a gradient needs at least 2 stops, got ${count}`);
  }
  return Array.from({ length: count }, (_, i) => {
    const offset = i / (count - 1);
    return { offset, colour: attentionColour(offset) };
  });
}

/**
 * Builds a 256-entry RGB lookup table of the scale (768 bytes, r g b per entry), so colouring a
 * map costs one table read per pixel instead of parsing a CSS colour.
 */
export function colourTable(): Uint8Array {
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = parseHexColour(attentionColour(i / 255));
    table.set([r, g, b], i * 3);
  }
  return table;
}

/**
 * Colours normalised values into RGBA pixels (4 bytes a value) with the given opacity (0 to 255).
 * A value's alpha also rises with the value, so weakly attended areas let the photo show through.
 */
export function colourPixels(
  values: ArrayLike<number>,
  table: Uint8Array,
  maxAlpha: number,
  minAlpha = Math.round(maxAlpha * 0.35),
): Uint8ClampedArray<ArrayBuffer> {
  const pixels = new Uint8ClampedArray(values.length * 4);
  for (let i = 0; i < values.length; i++) {
    const t = clampUnit(values[i] as number);
    const entry = Math.round(t * 255) * 3;
    pixels[i * 4] = table[entry] as number;
    pixels[i * 4 + 1] = table[entry + 1] as number;
    pixels[i * 4 + 2] = table[entry + 2] as number;
    pixels[i * 4 + 3] = Math.round(minAlpha + (maxAlpha - minAlpha) * t);
  }
  return pixels;
}

function clampUnit(t: number): number {
  if (Number.isNaN(t)) return 0;
  return Math.min(1, Math.max(0, t));
}

/** Parses `#rrggbb` (the form d3-scale-chromatic 3.x returns) into bytes. */
export function parseHexColour(colour: string): [number, number, number] {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (match === null) throw new Error(`expected a #rrggbb colour, got ${JSON.stringify(colour)}`);
  return [
    Number.parseInt(match[1] as string, 16),
    Number.parseInt(match[2] as string, 16),
    Number.parseInt(match[3] as string, 16),
  ];
}
