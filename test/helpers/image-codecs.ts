// Initializes the wasm image codecs in Node from the .wasm files in node_modules.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { initImageCodecs } from "../../shared/image/codecs.ts";
import { REPO_ROOT } from "./paths.ts";

let ready: Promise<void> | null = null;

export function initNodeImageCodecs(): Promise<void> {
  ready ??= (async () => {
    const [jpegTurbo, webp] = await Promise.all([
      readFile(join(REPO_ROOT, "node_modules/@cwasm/jpeg-turbo/jpeg-turbo.wasm")),
      readFile(join(REPO_ROOT, "node_modules/@cwasm/webp/webp.wasm")),
    ]);
    await initImageCodecs({ jpegTurbo: new Uint8Array(jpegTurbo), webp: new Uint8Array(webp) });
  })();
  return ready;
}
