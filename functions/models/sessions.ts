// ONNX sessions, created lazily on the first request that needs a package and cached per isolate
// as promises, so concurrent first requests share one load. A failed load is removed from the
// cache, so the next request retries it instead of failing until the isolate restarts.
import { initBundledImageCodecs } from "../../shared/image/codecs-bundled.ts";
import { OnnxCaptioner } from "../../shared/runtime/captioner.ts";
import { OnnxClip } from "../../shared/runtime/clip-model.ts";
import type { EmbeddingCache } from "../../shared/runtime/embedding-cache.ts";
import { fetchPackageSource, type PackageSource } from "../../shared/runtime/package-source.ts";
import { KvEmbeddingCache } from "../cache/kv-embedding-cache.ts";
import { type Bindings, readLimit } from "../env.ts";
import { logJson } from "../middleware/request-log.ts";
import { workerdOrt } from "../onnx/workerd-ort.ts";
import { ProblemError } from "../problem.ts";
import { ASSET_ORIGIN, type PackageEntry } from "./registry.ts";

/** Seven days: long enough to serve repeat images, short enough that stale exports age out. */
const DEFAULT_CACHE_TTL_SECONDS = 604_800;

const captioners = new Map<string, Promise<OnnxCaptioner>>();
const clips = new Map<string, Promise<OnnxClip>>();

function packageSource(env: Bindings, entry: PackageEntry): PackageSource {
  const assets = env.ASSETS;
  if (assets === undefined) {
    throw new ProblemError(
      503,
      "model-unavailable",
      "Model files unavailable",
      "The ASSETS binding is missing.",
    );
  }
  return fetchPackageSource(`${ASSET_ORIGIN}/models/${entry.name}/`, (url) => assets.fetch(url));
}

/**
 * Wraps the KV binding as the sessions' embedding cache. Sessions keep the cache they were created
 * with, which is safe because env bindings do not change within an isolate.
 */
function embeddingCache(env: Bindings): { cache?: EmbeddingCache; cacheTtlSeconds: number } {
  const cacheTtlSeconds = readLimit(env.EDGECAP_CACHE_TTL_SECONDS, DEFAULT_CACHE_TTL_SECONDS);
  if (env.EMBEDDINGS === undefined) return { cacheTtlSeconds };
  return { cache: new KvEmbeddingCache(env.EMBEDDINGS, cacheTtlSeconds), cacheTtlSeconds };
}

function cached<T>(
  map: Map<string, Promise<T>>,
  entry: PackageEntry,
  load: () => Promise<T>,
): Promise<T> {
  const existing = map.get(entry.name);
  if (existing !== undefined) return existing;

  const pending = load();
  map.set(entry.name, pending);
  pending.catch((error: unknown) => {
    if (map.get(entry.name) === pending) map.delete(entry.name);
    logJson("error", "model package failed to load; the next request retries", {
      model: entry.id,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  });
  return pending;
}

export function loadCaptioner(env: Bindings, entry: PackageEntry): Promise<OnnxCaptioner> {
  return cached(captioners, entry, async () => {
    await initBundledImageCodecs();
    return OnnxCaptioner.load(packageSource(env, entry), workerdOrt(), embeddingCache(env));
  });
}

export function loadClip(env: Bindings, entry: PackageEntry): Promise<OnnxClip> {
  return cached(clips, entry, async () => {
    await initBundledImageCodecs();
    return OnnxClip.load(packageSource(env, entry), workerdOrt(), embeddingCache(env));
  });
}
