// Cached encoder outputs (prefix embeddings) and CLIP image embeddings, keyed by the image's content
// hash, the model and the preprocessing version, so re-decoding an image skips the vision graph.
// Stored values carry a small header with dtype and shape, so any byte store (Workers KV, R2, the
// Cache API, a file) can hold them.

export type EmbeddingKind = "prefix" | "clip-image";

export interface CachedTensor {
  dtype: "float32";
  dims: number[];
  data: Float32Array;
}

export interface EmbeddingCacheKeyParts {
  kind: EmbeddingKind;
  /** sha256 of the image file bytes, lower-case hex. */
  imageSha256: string;
  modelId: string;
  /** sha256 of the graph that produced the value, so a re-exported model never reads stale entries. */
  modelSha256: string;
  /** Bumped whenever decoding or resizing could change the pixels the model receives. */
  preprocessingVersion: string;
}

export interface EmbeddingCache {
  get(key: string): Promise<CachedTensor | null>;
  /** Stores a value; `ttlSeconds` is a hint that stores without expiry may ignore. */
  put(key: string, value: CachedTensor, ttlSeconds?: number): Promise<void>;
}

/** Builds the cache key; every part is included because any of them changes the stored tensor. */
export function embeddingCacheKey(parts: EmbeddingCacheKeyParts): string {
  const hex = /^[0-9a-f]{64}$/;
  if (!hex.test(parts.imageSha256)) {
    throw new TypeError(`imageSha256 must be 64 lower-case hex digits, got "${parts.imageSha256}"`);
  }
  return [
    "edgecap",
    parts.kind,
    parts.modelId,
    parts.modelSha256.slice(0, 16),
    `pre${parts.preprocessingVersion}`,
    parts.imageSha256,
  ].join(":");
}

// Layout: "ECT1" magic, u32 little-endian header length, UTF-8 JSON header {dtype, dims}, zero
// padding to a multiple of 4 bytes, then the float32 data little-endian.
const MAGIC = [0x45, 0x43, 0x54, 0x31];

/** Serialises a tensor with its dtype and shape header. */
export function encodeCachedTensor(tensor: CachedTensor): Uint8Array {
  const expected = tensor.dims.reduce((product, size) => product * size, 1);
  if (expected !== tensor.data.length) {
    throw new RangeError(
      `tensor dims [${tensor.dims.join(", ")}] need ${expected} values, got ${tensor.data.length}`,
    );
  }

  const header = new TextEncoder().encode(
    JSON.stringify({ dtype: tensor.dtype, dims: tensor.dims }),
  );
  const dataOffset = Math.ceil((8 + header.length) / 4) * 4;
  const bytes = new Uint8Array(dataOffset + tensor.data.byteLength);
  bytes.set(MAGIC, 0);
  new DataView(bytes.buffer).setUint32(4, header.length, true);
  bytes.set(header, 8);

  const view = new DataView(bytes.buffer, dataOffset);
  for (let i = 0; i < tensor.data.length; i++)
    view.setFloat32(i * 4, tensor.data[i] as number, true);
  return bytes;
}

/** Parses bytes written by encodeCachedTensor; throws a TypeError for anything else. */
export function decodeCachedTensor(bytes: Uint8Array): CachedTensor {
  if (bytes.length < 8 || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new TypeError(
      "cached value is not an edgecap tensor (missing ECT1 header); delete the entry",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as {
    dtype: unknown;
    dims: unknown;
  };
  if (
    header.dtype !== "float32" ||
    !Array.isArray(header.dims) ||
    !header.dims.every(Number.isSafeInteger)
  ) {
    throw new TypeError(`cached tensor header is invalid: ${JSON.stringify(header)}`);
  }

  const dims = header.dims as number[];
  const count = dims.reduce((product, size) => product * size, 1);
  const dataOffset = Math.ceil((8 + headerLength) / 4) * 4;
  if (bytes.length !== dataOffset + count * 4) {
    throw new TypeError(
      `cached tensor is truncated: ${bytes.length} bytes for dims [${dims.join(", ")}]`,
    );
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataOffset + i * 4, true);
  return { dtype: "float32", dims, data };
}

/** An in-process cache bounded by total bytes, evicting the least recently used entry. */
export class MemoryEmbeddingCache implements EmbeddingCache {
  readonly maxBytes: number;
  #bytes = 0;
  readonly #entries = new Map<string, { value: CachedTensor; expiresAt: number }>();

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.maxBytes = maxBytes;
  }

  async get(key: string): Promise<CachedTensor | null> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= Date.now()) {
      this.#delete(key);
      return null;
    }
    // Re-insert to mark it as most recently used (Map keeps insertion order).
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  async put(key: string, value: CachedTensor, ttlSeconds?: number): Promise<void> {
    const size = value.data.byteLength;
    if (size > this.maxBytes) return;
    this.#delete(key);

    while (this.#bytes + size > this.maxBytes) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#delete(oldest.value);
    }
    const expiresAt =
      ttlSeconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + ttlSeconds * 1000;
    this.#entries.set(key, { value, expiresAt });
    this.#bytes += size;
  }

  get size(): number {
    return this.#entries.size;
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.value.data.byteLength;
  }
}

/** Whether a value came from the cache ("hit"), was computed and stored ("miss"), or no cache was set ("off"). */
export type CacheStatus = "hit" | "miss" | "off";

/**
 * Returns the cached tensor for `parts`, or computes it with `compute` and stores it. A cached value
 * that `accept` rejects (a shape from an older export, say) is recomputed and overwritten.
 */
export async function readThroughCache(
  cache: EmbeddingCache | undefined,
  parts: EmbeddingCacheKeyParts,
  ttlSeconds: number | undefined,
  compute: () => Promise<CachedTensor>,
  accept: (tensor: CachedTensor) => boolean = () => true,
): Promise<{ tensor: CachedTensor; status: CacheStatus }> {
  if (cache === undefined) return { tensor: await compute(), status: "off" };

  const key = embeddingCacheKey(parts);
  const cached = await cache.get(key);
  if (cached !== null && accept(cached)) return { tensor: cached, status: "hit" };

  const tensor = await compute();
  await cache.put(key, tensor, ttlSeconds);
  return { tensor, status: "miss" };
}
