// CLIPScore of captions against image files with an ONNX CLIP package, for `edgecap clipscore` and
// `edgecap evaluate --images DIR --clip DIR`. Image files are found by name without extension.
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import type { ClipScoreResult } from "../shared/clip/score.ts";
import { MemoryEmbeddingCache } from "../shared/runtime/embedding-cache.ts";
import { loadClipPackage } from "../shared/runtime/load-package.ts";
import { directoryPackageSource, initNodeImageCodecs, loadNodeOrt } from "./node-host.ts";

const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"]);

/** Some images named by the predictions have no file in the image folder. */
export class MissingImageFilesError extends Error {}

export interface ClipScoringInput {
  clipDir: string;
  imagesDir: string;
  imageIds: readonly string[];
  captions: readonly string[];
  references?: readonly (readonly string[])[];
  prefix?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ClipScoringOutput extends ClipScoreResult {
  model: { id: string; sha256: string };
}

/** Maps image names (file names without extension) to paths in `directory`. */
export async function indexImageFiles(directory: string): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  for (const entry of await readdir(directory)) {
    const extension = extname(entry).toLowerCase();
    if (IMAGE_EXTENSIONS.has(extension))
      index.set(entry.slice(0, -extension.length), join(directory, entry));
  }
  return index;
}

/** Embeds every image and caption and returns corpus and per-pair CLIPScore (and RefCLIPScore). */
export async function scoreImagesWithClip(input: ClipScoringInput): Promise<ClipScoringOutput> {
  const files = await indexImageFiles(input.imagesDir);
  const missing = input.imageIds.filter((id) => !files.has(id));
  if (missing.length > 0) {
    throw new MissingImageFilesError(
      `${missing.length} images have no file in ${input.imagesDir} (first: ${missing.slice(0, 10).join(", ")}); ` +
        `expected files named <image name>.jpg/.png/.webp/.gif/.bmp`,
    );
  }

  await initNodeImageCodecs();
  const { ort } = await loadNodeOrt();
  const clip = await loadClipPackage(directoryPackageSource(input.clipDir), ort, {
    cache: new MemoryEmbeddingCache(),
  });

  const embeddings: Float32Array[] = [];
  for (const [index, id] of input.imageIds.entries()) {
    const bytes = new Uint8Array(await readFile(files.get(id) as string));
    embeddings.push((await clip.embedImageBytes(bytes)).embedding);
    input.onProgress?.(index + 1, input.imageIds.length);
  }

  const result = await clip.score(embeddings, input.captions, {
    ...(input.references === undefined ? {} : { references: input.references }),
    prefix: input.prefix ?? "",
  });
  return { ...result, model: { id: clip.id, sha256: clip.sha256 } };
}
