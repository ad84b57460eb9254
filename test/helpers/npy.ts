// Reader for NumPy .npy files (format versions 1.0-3.0), little-endian or byte-sized dtypes, C order.

export interface NpyArray {
  dtype: string;
  shape: number[];
  data: Uint8Array | Float32Array | Float64Array | Int32Array | Uint16Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

const DTYPES: Record<
  string,
  (buffer: ArrayBuffer, offset: number, length: number) => NpyArray["data"]
> = {
  "|u1": (b, o, n) => new Uint8Array(b, o, n),
  "<u2": (b, o, n) => new Uint16Array(b, o, n),
  "<i4": (b, o, n) => new Int32Array(b, o, n),
  "<f4": (b, o, n) => new Float32Array(b, o, n),
  "<f8": (b, o, n) => new Float64Array(b, o, n),
};

/** Parses .npy bytes; the returned data is a fresh, aligned copy. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (!MAGIC.every((value, i) => bytes[i] === value)) {
    throw new Error("Not a .npy file: the magic string \\x93NUMPY is missing.");
  }
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder("latin1").decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );

  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) {
    throw new Error(`Invalid .npy header: ${header.trim()}`);
  }
  if (fortran === "True")
    throw new Error("Fortran-ordered .npy arrays are not supported. Save the array in C order.");
  const make = DTYPES[descr];
  if (!make)
    throw new Error(
      `Unsupported .npy dtype ${descr}. Supported dtypes: ${Object.keys(DTYPES).join(", ")}.`,
    );

  const shape = shapeText
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(Number);
  const count = shape.reduce((product, size) => product * size, 1);
  const dataStart = headerStart + headerLength;
  // Copy so that the typed array starts at an aligned offset of its own buffer.
  const copy = bytes.slice(dataStart).buffer;
  return { dtype: descr, shape, data: make(copy, 0, count) };
}
