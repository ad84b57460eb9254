// libwebp's decoder compiled to wasm, from the npm package @cwasm/webp 0.1.5. WebPDecodeRGBA uses
// libwebp's default fancy chroma upsampling and returns straight (not premultiplied) alpha, the
// same as Pillow 9.4 with libwebp 1.2.4.

import { ImageDecodeError } from "./errors.ts";
import {
  copyFromHeap,
  copyToHeap,
  instantiateWasm,
  type WasmHeapExports,
  type WasmSource,
  wasiStubs,
} from "./wasm-memory.ts";

interface LibwebpExports extends WasmHeapExports {
  WebPDecodeRGBA(data: number, size: number, widthPointer: number, heightPointer: number): number;
}

let webpModule: WebAssembly.Module | null = null;
let webp: LibwebpExports | null = null;

export async function initLibwebp(source: WasmSource): Promise<void> {
  webpModule = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  webp = await instantiateLibwebp(webpModule);
}

export function libwebpReady(): boolean {
  return webpModule !== null;
}

async function instantiateLibwebp(module: WebAssembly.Module): Promise<LibwebpExports> {
  let memory: WebAssembly.Memory | null = null;
  const instance = await instantiateWasm(module, {
    wasi_snapshot_preview1: wasiStubs(
      () => memory as WebAssembly.Memory,
      () => {},
    ),
  });
  const exports = instance.exports as unknown as LibwebpExports;
  memory = exports.memory;
  return exports;
}

/** Decodes a WebP image (lossy or lossless, first frame) to straight RGBA. */
export async function decodeWebpRgba(
  bytes: Uint8Array,
): Promise<{ width: number; height: number; data: Uint8Array }> {
  if (!webpModule) {
    throw new ImageDecodeError(
      "codec_not_initialized",
      "WebP decoder is not initialized. Await initImageCodecs({ webp }) before decoding.",
    );
  }
  webp ??= await instantiateLibwebp(webpModule);
  const exports = webp;

  const input = copyToHeap(exports, bytes);
  const meta = exports.malloc(8);
  let output = 0;
  try {
    output = exports.WebPDecodeRGBA(input, bytes.length, meta, meta + 4);
    if (output === 0) {
      throw new ImageDecodeError(
        "corrupt",
        "WebP data could not be decoded by libwebp. The file is damaged or truncated.",
      );
    }
    const [width = 0, height = 0] = new Int32Array(exports.memory.buffer, meta, 2);
    return { width, height, data: copyFromHeap(exports, output, width * height * 4) };
  } catch (error) {
    if (!(error instanceof ImageDecodeError)) {
      // A wasm trap (for example an abort on a failed allocation) leaves the instance unusable.
      webp = null;
    }
    throw error;
  } finally {
    if (webp === exports) {
      if (output !== 0) exports.free(output);
      exports.free(meta);
      exports.free(input);
    }
  }
}
