// libjpeg-turbo (TurboJPEG API) compiled to wasm, from the npm package @cwasm/jpeg-turbo 0.1.3.
// Its default settings (accurate integer IDCT, "fancy" triangular chroma upsampling) are the ones
// Pillow's libjpeg-turbo uses, so the decoded pixels are bit-identical to Pillow 9.4.

import { ImageDecodeError } from "./errors.ts";
import {
  copyFromHeap,
  copyToHeap,
  instantiateWasm,
  type WasmHeapExports,
  type WasmSource,
  wasiStubs,
} from "./wasm-memory.ts";

interface TurboJpegExports extends WasmHeapExports {
  tjInitDecompress(): number;
  tjDecompressHeader3(
    handle: number,
    jpeg: number,
    jpegSize: number,
    widthPointer: number,
    heightPointer: number,
    subsamplingPointer: number,
    colorspacePointer: number,
  ): number;
  tjDecompress2(
    handle: number,
    jpeg: number,
    jpegSize: number,
    output: number,
    width: number,
    pitch: number,
    height: number,
    pixelFormat: number,
    flags: number,
  ): number;
  tjDestroy(handle: number): number;
}

/** TurboJPEG pixel formats (TJPF_*) used here, with their bytes per pixel. */
export const TurboPixelFormat = {
  rgb: { id: 0, channels: 3 },
  gray: { id: 6, channels: 1 },
  cmyk: { id: 11, channels: 4 },
} as const;
export type TurboPixelFormatName = keyof typeof TurboPixelFormat;

/** TurboJPEG colour spaces (TJCS_*) reported by the header. */
export const TurboColorspace = { rgb: 0, ycbcr: 1, gray: 2, cmyk: 3, ycck: 4 } as const;

/** Thrown from the wasm `longjmp` import, which libjpeg's error_exit reaches on a fatal error. */
class LibjpegFatalError extends Error {}

// The compiled module is kept so that a fresh instance can replace one that a fatal error left with
// a leaked shadow stack (the exception skips the C epilogues that restore the stack pointer).
let turboModule: WebAssembly.Module | null = null;
let turbo: TurboJpegExports | null = null;
let pendingInstance: Promise<TurboJpegExports> | null = null;

export async function initJpegTurbo(source: WasmSource): Promise<void> {
  turboModule = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  turbo = await instantiateTurbo(turboModule);
}

export function jpegTurboReady(): boolean {
  return turboModule !== null;
}

async function instantiateTurbo(module: WebAssembly.Module): Promise<TurboJpegExports> {
  let memory: WebAssembly.Memory | null = null;
  const instance = await instantiateWasm(module, {
    env: {
      // setjmp always returns 0, so a libjpeg error_exit lands in longjmp, which unwinds through
      // the wasm stack as a JS exception.
      setjmp: () => 0,
      longjmp: () => {
        throw new LibjpegFatalError("libjpeg reported a fatal error");
      },
    },
    wasi_snapshot_preview1: wasiStubs(
      () => memory as WebAssembly.Memory,
      () => {},
    ),
  });
  const exports = instance.exports as unknown as TurboJpegExports;
  memory = exports.memory;
  return exports;
}

async function acquireTurbo(): Promise<TurboJpegExports> {
  if (turbo) return turbo;
  if (!turboModule) {
    throw new ImageDecodeError(
      "codec_not_initialized",
      "JPEG decoder is not initialized. Await initImageCodecs({ jpegTurbo }) before decoding.",
    );
  }
  pendingInstance ??= instantiateTurbo(turboModule);
  turbo = await pendingInstance;
  pendingInstance = null;
  return turbo;
}

export interface TurboDecoded {
  width: number;
  height: number;
  colorspace: number;
  data: Uint8Array;
  /** libjpeg emitted a warning (corrupt data that it skipped, or premature end of data). */
  warning: boolean;
}

/**
 * Decodes a JPEG with TurboJPEG's default (libjpeg) settings into the pixel format that
 * `chooseFormat` picks from the header's colour space (a TurboColorspace value).
 */
export async function decodeJpegPixels(
  jpeg: Uint8Array,
  chooseFormat: (colorspace: number) => TurboPixelFormatName,
): Promise<TurboDecoded> {
  const exports = await acquireTurbo();
  const input = copyToHeap(exports, jpeg);
  const meta = exports.malloc(16);
  const handle = exports.tjInitDecompress();
  let output = 0;

  try {
    if (handle === 0) throw new Error("tjInitDecompress failed to allocate a decompressor");
    readHeader(exports, handle, input, jpeg.length, meta);
    const [width = 0, height = 0, , colorspace = 0] = new Int32Array(
      exports.memory.buffer,
      meta,
      4,
    );
    const { id, channels } = TurboPixelFormat[chooseFormat(colorspace)];

    const size = width * height * channels;
    output = exports.malloc(size);
    if (output === 0) {
      throw new ImageDecodeError(
        "too_many_pixels",
        `JPEG decoder could not allocate ${size} bytes for ${width}x${height} pixels. Send a smaller image.`,
      );
    }
    const status = exports.tjDecompress2(
      handle,
      input,
      jpeg.length,
      output,
      width,
      width * channels,
      height,
      id,
      0,
    );

    // TurboJPEG returns -1 after a warning but still writes every row; fatal errors throw.
    return {
      width,
      height,
      colorspace,
      data: copyFromHeap(exports, output, size),
      warning: status !== 0,
    };
  } catch (error) {
    if (!(error instanceof ImageDecodeError)) {
      // A libjpeg fatal error or a wasm trap leaves the instance unusable.
      turbo = null;
    }
    if (error instanceof LibjpegFatalError) {
      throw new ImageDecodeError(
        "corrupt",
        "JPEG data is invalid: libjpeg-turbo stopped with a fatal error.",
        {
          cause: error,
        },
      );
    }
    throw error;
  } finally {
    // After a fatal error the instance is dropped whole, so its heap needs no cleanup.
    if (turbo === exports) {
      if (output !== 0) exports.free(output);
      if (handle !== 0) exports.tjDestroy(handle);
      exports.free(meta);
      exports.free(input);
    }
  }
}

function readHeader(
  exports: TurboJpegExports,
  handle: number,
  input: number,
  size: number,
  meta: number,
): void {
  const status = exports.tjDecompressHeader3(
    handle,
    input,
    size,
    meta,
    meta + 4,
    meta + 8,
    meta + 12,
  );
  if (status !== 0) {
    throw new ImageDecodeError(
      "corrupt",
      "JPEG header could not be read by libjpeg-turbo. The file is damaged.",
    );
  }
}
