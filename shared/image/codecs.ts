import { initJpegTurbo, jpegTurboReady } from "./jpeg-turbo.ts";
import { initLibwebp, libwebpReady } from "./libwebp.ts";
import type { WasmSource } from "./wasm-memory.ts";

/**
 * The wasm codecs: `jpegTurbo` is node_modules/@cwasm/jpeg-turbo/jpeg-turbo.wasm and `webp` is
 * node_modules/@cwasm/webp/webp.wasm. In workerd pass the WebAssembly.Module that an import of the
 * .wasm file yields (see codecs-bundled.ts); in Node or a browser the file's bytes also work.
 */
export interface ImageCodecSources {
  jpegTurbo?: WasmSource;
  webp?: WasmSource;
}

/**
 * Instantiates the wasm codecs once per isolate or process. PNG, GIF and BMP are pure JS and need
 * no initialization; decoding a JPEG or WebP before this resolves fails with
 * `codec_not_initialized`.
 */
export async function initImageCodecs(sources: ImageCodecSources): Promise<void> {
  const pending: Promise<void>[] = [];
  if (sources.jpegTurbo) pending.push(initJpegTurbo(sources.jpegTurbo));
  if (sources.webp) pending.push(initLibwebp(sources.webp));
  await Promise.all(pending);
}

export function imageCodecsReady(): { jpeg: boolean; webp: boolean } {
  return { jpeg: jpegTurboReady(), webp: libwebpReady() };
}
