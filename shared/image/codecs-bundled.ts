// Codec initialization for runtimes whose bundler turns an imported .wasm file into a compiled
// WebAssembly.Module: workerd through wrangler (the default CompiledWasm rule for **/*.wasm) and
// the Workers Vitest integration. Plain Node cannot import .wasm this way; it passes the file
// bytes to initImageCodecs instead.

import jpegTurboWasm from "@cwasm/jpeg-turbo/jpeg-turbo.wasm";
import webpWasm from "@cwasm/webp/webp.wasm";
import { initImageCodecs } from "./codecs.ts";

let initialized: Promise<void> | null = null;

/** Initializes the JPEG and WebP codecs from the bundled modules; repeated calls share one run. */
export function initBundledImageCodecs(): Promise<void> {
  initialized ??= initImageCodecs({ jpegTurbo: jpegTurboWasm, webp: webpWasm });
  return initialized;
}
