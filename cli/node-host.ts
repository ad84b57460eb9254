// The Node host of the runtime. It uses onnxruntime-node (native, fastest on a CPU) when that loads,
// else onnxruntime-web's wasm build. Image codecs come from node_modules and packages from disk.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { initImageCodecs } from "../shared/image/codecs.ts";
import type { OrtApi } from "../shared/runtime/ort.ts";
import type { PackageSource } from "../shared/runtime/package-source.ts";

const require = createRequire(import.meta.url);

let ortPromise: Promise<{ ort: OrtApi; backend: "onnxruntime-node" | "onnxruntime-web" }> | null =
  null;

/** Loads ONNX Runtime once; `EDGECAP_ORT=web` forces the wasm build (for comparisons with workerd). */
export function loadNodeOrt(): Promise<{
  ort: OrtApi;
  backend: "onnxruntime-node" | "onnxruntime-web";
}> {
  ortPromise ??= (async () => {
    if (process.env.EDGECAP_ORT !== "web") {
      try {
        const ort = (await import("onnxruntime-node")) as unknown as OrtApi;
        return { ort, backend: "onnxruntime-node" as const };
      } catch (error) {
        console.error(
          `edgecap: onnxruntime-node failed to load (${(error as Error).message}); using onnxruntime-web (wasm)`,
        );
      }
    }
    const ort = (await import("onnxruntime-web")) as unknown as OrtApi & {
      env: { wasm: { numThreads: number } };
    };
    ort.env.wasm.numThreads = 1;
    return { ort, backend: "onnxruntime-web" as const };
  })();
  return ortPromise;
}

let codecsPromise: Promise<void> | null = null;

/** Initialises the JPEG (libjpeg-turbo) and WebP (libwebp) wasm codecs from their npm packages. */
export function initNodeImageCodecs(): Promise<void> {
  codecsPromise ??= (async () => {
    const [jpegTurbo, webp] = await Promise.all([
      readFile(require.resolve("@cwasm/jpeg-turbo/jpeg-turbo.wasm")),
      readFile(require.resolve("@cwasm/webp/webp.wasm")),
    ]);
    await initImageCodecs({ jpegTurbo: new Uint8Array(jpegTurbo), webp: new Uint8Array(webp) });
  })();
  return codecsPromise;
}

/** Returns a package source over a folder on disk. */
export function directoryPackageSource(directory: string): PackageSource {
  return {
    location: directory,
    async readBytes(name) {
      try {
        return new Uint8Array(await readFile(join(directory, name)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
    },
  };
}
