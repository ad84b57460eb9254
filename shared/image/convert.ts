// Conversions to 8-bit RGB that reproduce Pillow 9.4's Image.convert("RGB") for each source mode.

/** Mode L (and LA after the alpha is skipped): the gray value goes into R, G and B. */
export function grayToRgb(gray: ArrayLike<number>, pixelCount: number, stride = 1): Uint8Array {
  const out = new Uint8Array(pixelCount * 3);
  for (let i = 0; i < pixelCount; i++) {
    const value = gray[i * stride] as number;
    out[i * 3] = value;
    out[i * 3 + 1] = value;
    out[i * 3 + 2] = value;
  }
  return out;
}

/**
 * Modes RGBA, RGBX and the like: the first three channels are kept and the rest dropped. Alpha is
 * discarded without compositing, so the colour under a fully transparent pixel survives.
 */
export function dropExtraChannels(
  pixels: ArrayLike<number>,
  pixelCount: number,
  channels: number,
): Uint8Array {
  const out = new Uint8Array(pixelCount * 3);
  for (let i = 0; i < pixelCount; i++) {
    out[i * 3] = pixels[i * channels] as number;
    out[i * 3 + 1] = pixels[i * channels + 1] as number;
    out[i * 3 + 2] = pixels[i * channels + 2] as number;
  }
  return out;
}

/**
 * Mode P: a plain palette lookup. Transparency (PNG tRNS, the GIF transparent index) is ignored,
 * so a transparent index still yields its palette colour. `palette` is flat RGB.
 */
export function paletteToRgb(
  indices: ArrayLike<number>,
  pixelCount: number,
  palette: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(pixelCount * 3);
  for (let i = 0; i < pixelCount; i++) {
    const entry = (indices[i] as number) * 3;
    out[i * 3] = palette[entry] as number;
    out[i * 3 + 1] = palette[entry + 1] as number;
    out[i * 3 + 2] = palette[entry + 2] as number;
  }
  return out;
}

/**
 * Builds a 256-entry RGB palette. Pillow starts every palette as a gray ramp (entry i is
 * (i, i, i)) and overwrites the entries the file defines, so indices past the file's palette
 * come out gray rather than black.
 */
export function fullPalette(entries: ReadonlyArray<ArrayLike<number>>): Uint8Array {
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const entry = entries[i];
    palette[i * 3] = entry ? (entry[0] as number) : i;
    palette[i * 3 + 1] = entry ? (entry[1] as number) : i;
    palette[i * 3 + 2] = entry ? (entry[2] as number) : i;
  }
  return palette;
}

/**
 * CMYK JPEG to RGB. Pillow reads every 4-component JPEG as Adobe-inverted CMYK ("CMYK;I"), so the
 * raw libjpeg value v stands for ink 255 - v. Pillow's cmyk2rgb then computes, per channel,
 * R = 255 - K - MULDIV255(C, 255 - K) with MULDIV255(a, b) = ((t >> 8) + t) >> 8, t = a*b + 128,
 * with no ICC transform.
 */
export function adobeCmykToRgb(raw: Uint8Array, pixelCount: number): Uint8Array {
  const out = new Uint8Array(pixelCount * 3);
  for (let i = 0; i < pixelCount; i++) {
    const black = 255 - (raw[i * 4 + 3] as number);
    for (let c = 0; c < 3; c++) {
      const ink = 255 - (raw[i * 4 + c] as number);
      const t = ink * (255 - black) + 128;
      out[i * 3 + c] = 255 - black - (((t >> 8) + t) >> 8);
    }
  }
  return out;
}
