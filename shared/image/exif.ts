// EXIF orientation (TIFF tag 0x0112 in IFD0), the only EXIF field the pipeline needs.

const ORIENTATION_TAG = 0x0112;
const TYPE_SHORT = 3;
const TYPE_LONG = 4;

/**
 * Reads the Orientation tag from an EXIF block: a TIFF structure, optionally preceded by the
 * "Exif\0\0" identifier that JPEG APP1 and some WebP files carry. Returns null when the block is
 * malformed or has no orientation, which callers treat as orientation 1, as Pillow does.
 */
export function readExifOrientation(block: Uint8Array): number | null {
  let tiff = block;
  if (tiff.length >= 6 && String.fromCharCode(...tiff.subarray(0, 6)) === "Exif\0\0") {
    tiff = tiff.subarray(6);
  }
  if (tiff.length < 8) return null;

  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = String.fromCharCode(tiff[0] ?? 0, tiff[1] ?? 0);
  if (order !== "II" && order !== "MM") return null;
  const little = order === "II";
  if (view.getUint16(2, little) !== 42) return null;

  const ifdOffset = view.getUint32(4, little);
  if (ifdOffset + 2 > tiff.length) return null;
  const entryCount = view.getUint16(ifdOffset, little);

  for (let i = 0; i < entryCount; i++) {
    const entry = ifdOffset + 2 + i * 12;
    if (entry + 12 > tiff.length) return null;
    if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;

    const type = view.getUint16(entry + 2, little);
    if (type === TYPE_SHORT) return view.getUint16(entry + 8, little);
    if (type === TYPE_LONG) return view.getUint32(entry + 8, little);
    return null;
  }
  return null;
}
