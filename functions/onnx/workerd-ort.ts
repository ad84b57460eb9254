// onnxruntime-web configured for workerd. workerd forbids compiling WebAssembly from bytes at run
// time and gives modules an empty import.meta.url, so onnxruntime-web can neither fetch nor compile
// its .wasm by itself. wrangler imports the .wasm as a precompiled WebAssembly.Module instead; the
// byte-array `WebAssembly.instantiate` call that the Emscripten glue makes is redirected to that
// Module. Measured with onnxruntime-web 1.31 and workerd 2026-11: one thread, no proxy worker.

import ortWasmModule from "onnxruntime-web/ort-wasm-simd-threaded.wasm";
import * as ort from "onnxruntime-web/wasm";

let configured = false;

function configureOnce(): void {
  if (configured) return;
  configured = true;

  const originalInstantiate = WebAssembly.instantiate.bind(WebAssembly);
  const redirected = (
    source: BufferSource | WebAssembly.Module,
    imports?: WebAssembly.Imports,
  ): Promise<WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource> => {
    if (source instanceof WebAssembly.Module) return originalInstantiate(source, imports);
    // The glue passes the placeholder bytes below; return the precompiled module's instance in
    // the {module, instance} shape that the byte-array overload returns.
    return originalInstantiate(ortWasmModule, imports).then((instance) => ({
      module: ortWasmModule,
      instance,
    }));
  };
  WebAssembly.instantiate = redirected as typeof WebAssembly.instantiate;

  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  // A non-empty placeholder stops the glue from fetching the .wasm; its bytes are never compiled.
  ort.env.wasm.wasmBinary = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
}

/** Returns the onnxruntime-web API with the workerd configuration applied. */
export function workerdOrt(): typeof ort {
  configureOnce();
  return ort;
}
