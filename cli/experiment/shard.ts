// `--shard i/n`: which images of a dataset one shard captions, and where its output goes.
import { join } from "node:path";

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** Parses "i/n" with 0 <= i < n. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || index >= count) {
    throw new RangeError(`--shard must be "i/n" with 0 <= i < n, such as 0/4, got "${text}"`);
  }
  return { index, count };
}

/**
 * Keeps the images of one shard: image k of the dataset (in captions-file order, after subset and
 * limit) belongs to shard k mod n. The partition depends only on the config, so every shard of
 * one config agrees on it, and shard sizes differ by at most one.
 */
export function shardImages<T>(images: readonly T[], shard: Shard | null): T[] {
  if (shard === null) return [...images];
  return images.filter((_, k) => k % shard.count === shard.index);
}

/** Folder of a shard's output under the experiment's output folder. */
export function shardFolder(outDir: string, shard: Shard): string {
  return join(outDir, "shards", `${shard.index}-of-${shard.count}`);
}
