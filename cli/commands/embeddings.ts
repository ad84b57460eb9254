// `edgecap embeddings`: precomputes the embeddings the edge service caches (captioner prefix
// embeddings or CLIP image embeddings) for every image of a dataset folder, with the Node runtime.
// It writes them in the bulk format of `wrangler kv bulk put`, so a deployment (or the local store
// of `wrangler dev`) starts with a warm EMBEDDINGS cache. The keys are the ones the Worker computes.

import { readdir, readFile } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ImageDecodeError } from "../../shared/image/errors.ts";
import { OnnxCaptioner } from "../../shared/runtime/captioner.ts";
import { OnnxClip } from "../../shared/runtime/clip-model.ts";
import {
  type CachedTensor,
  type EmbeddingCache,
  encodeCachedTensor,
} from "../../shared/runtime/embedding-cache.ts";
import { ModelPackageError } from "../../shared/runtime/errors.ts";
import { type Command, EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, UsageError } from "../command.ts";
import { directoryPackageSource, initNodeImageCodecs, loadNodeOrt } from "../node-host.ts";
import { checkOutputPath, writeOutputFile } from "../output-file.ts";

const USAGE = `Usage: edgecap embeddings --dataset DIR --model PKG --out FILE [--ttl SECONDS] [--limit N]

Runs the vision graph of a captioner package (prefix embeddings) or the image graph of a CLIP
package (image embeddings) on every image under DIR, and writes a JSON array of
{"key", "value", "base64": true, "expiration_ttl"} entries: the format of
\`wrangler kv bulk put\` and of the edge route PUT /v1/embeddings. Load it with
  npx wrangler kv bulk put FILE --binding EMBEDDINGS --local    (for npm start)
  npx wrangler kv bulk put FILE --binding EMBEDDINGS --remote   (for the deployment)

Options:
  --dataset DIR    folder of images (.jpg, .jpeg, .png, .webp, .gif, .bmp), searched recursively
  --model PKG      a model package folder, or a package name under models/packages/ or
                   test/fixtures/packages/
  --out FILE       where to write the bulk file (JSON)
  --ttl SECONDS    expiration_ttl of each entry (default 604800, 7 days; KV's minimum is 60)
  --limit N        embed only the first N images in name order

Exit status: 0 written, 1 an image or the package is invalid, 2 invalid usage.`;

const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"]);
const DEFAULT_TTL_SECONDS = 604_800;

export const command: Command = {
  summary: "Precompute cached embeddings of a dataset for Workers KV",
  usage: USAGE,
  run,
};

export interface BulkEntry {
  key: string;
  value: string;
  base64: true;
  expiration_ttl: number;
}

/** An EmbeddingCache that never hits and records every value the runtime stores. */
class RecordingCache implements EmbeddingCache {
  readonly entries = new Map<string, CachedTensor>();

  async get(): Promise<CachedTensor | null> {
    return null;
  }

  async put(key: string, value: CachedTensor): Promise<void> {
    this.entries.set(key, value);
  }
}

async function listImages(directory: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      found.push(join(entry.parentPath, entry.name));
    }
  }
  return found.sort();
}

async function resolvePackageDir(model: string): Promise<string> {
  const candidates = [
    resolve(model),
    resolve("models/packages", model),
    resolve("test/fixtures/packages", model),
  ];
  for (const candidate of candidates) {
    try {
      await readFile(join(candidate, "manifest.json"));
      return candidate;
    } catch {
      // Try the next location.
    }
  }
  throw new UsageError(
    `--model ${model}: no manifest.json in ${candidates.join(", ")}; pass a package folder`,
  );
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: "string" },
        model: { type: "string" },
        out: { type: "string" },
        ttl: { type: "string" },
        limit: { type: "string" },
      },
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  for (const name of ["dataset", "model", "out"]) {
    if (values[name] === undefined || values[name] === "") {
      throw new UsageError(`missing --${name}`);
    }
  }
  const ttl = values.ttl === undefined ? DEFAULT_TTL_SECONDS : Number(values.ttl);
  if (!Number.isSafeInteger(ttl) || ttl < 60) {
    throw new UsageError(
      `--ttl must be a whole number of seconds of at least 60, got ${values.ttl}`,
    );
  }
  const limit = values.limit === undefined ? Number.POSITIVE_INFINITY : Number(values.limit);
  if (values.limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw new UsageError(`--limit must be a whole number of at least 1, got ${values.limit}`);
  }

  await checkOutputPath(values.out as string, "--out");
  const packageDir = await resolvePackageDir(values.model as string);
  let images: string[];
  try {
    images = (await listImages(values.dataset as string)).slice(0, limit);
  } catch (error) {
    console.error(
      `edgecap embeddings: cannot read --dataset ${values.dataset}: ${(error as Error).message}`,
    );
    return EXIT_USAGE;
  }
  if (images.length === 0) {
    console.error(`edgecap embeddings: no image files under ${values.dataset}`);
    return EXIT_USAGE;
  }

  await initNodeImageCodecs();
  const { ort, backend } = await loadNodeOrt();
  const manifest = JSON.parse(await readFile(join(packageDir, "manifest.json"), "utf8")) as {
    kind?: string;
  };
  const cache = new RecordingCache();
  const source = directoryPackageSource(packageDir);

  try {
    if (manifest.kind === "clip") {
      const clip = await OnnxClip.load(source, ort, { cache });
      for (const path of images) await clip.embedImageBytes(new Uint8Array(await readFile(path)));
    } else {
      const captioner = await OnnxCaptioner.load(source, ort, { cache });
      // One decoding step is enough: the prefix is computed and cached before decoding starts.
      for (const path of images) {
        await captioner.caption(new Uint8Array(await readFile(path)), {
          generation: { max_new_tokens: 1 },
        });
      }
    }
  } catch (error) {
    if (error instanceof ImageDecodeError || error instanceof ModelPackageError) {
      console.error(`edgecap embeddings: ${error.message}`);
      return EXIT_DATA_ERROR;
    }
    throw error;
  }

  const entries: BulkEntry[] = [...cache.entries].map(([key, value]) => ({
    key,
    value: toBase64(encodeCachedTensor(value)),
    base64: true,
    expiration_ttl: ttl,
  }));
  await writeOutputFile(values.out as string, `${JSON.stringify(entries)}\n`, "--out");
  console.error(
    `edgecap embeddings: ${entries.length} entries from ${images.length} images (${manifest.kind ?? "captioner"}, ${backend}) -> ${values.out}`,
  );
  return EXIT_OK;
}
