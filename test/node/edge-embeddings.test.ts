// `edgecap embeddings` writes a bulk file whose keys are the ones the Worker computes and whose
// values decode as the cached tensors the runtime would store.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeCachedTensor } from "../../shared/runtime/embedding-cache.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../helpers/paths.ts";

const DATASET = join(OWNER_DATA_DIR, "data/coco-mini/val2017");

function runEmbeddings(model: string, extra: string[] = []) {
  const out = join(mkdtempSync(join(tmpdir(), "edgecap-embeddings-")), "bulk.json");
  const result = spawnSync(
    process.execPath,
    [
      "cli/edgecap.mjs",
      "embeddings",
      "--dataset",
      DATASET,
      "--model",
      model,
      "--out",
      out,
      ...extra,
    ],
    { cwd: REPO_ROOT, encoding: "utf8" },
  );
  return { result, out };
}

interface BulkEntry {
  key: string;
  value: string;
  base64: boolean;
  expiration_ttl: number;
}

describe("edgecap embeddings", () => {
  it("writes prefix embeddings of a captioner package", () => {
    const { result, out } = runEmbeddings("tiny-random", ["--limit", "2", "--ttl", "3600"]);
    expect(result.status, result.stderr).toBe(0);

    const entries = JSON.parse(readFileSync(out, "utf8")) as BulkEntry[];
    expect(entries).toHaveLength(2);
    for (const entry of entries) {
      expect(entry.key).toMatch(
        /^edgecap:prefix:edgecap-tiny-random:[0-9a-f]{16}:pre1:[0-9a-f]{64}$/,
      );
      expect(entry.base64).toBe(true);
      expect(entry.expiration_ttl).toBe(3600);
      const tensor = decodeCachedTensor(new Uint8Array(Buffer.from(entry.value, "base64")));
      expect(tensor.dims).toEqual([1, 197, 32]);
    }
  });

  it("writes CLIP image embeddings of a CLIP package", () => {
    const { result, out } = runEmbeddings("tiny-random-clip", ["--limit", "1"]);
    expect(result.status, result.stderr).toBe(0);

    const entries = JSON.parse(readFileSync(out, "utf8")) as BulkEntry[];
    expect(entries).toHaveLength(1);
    expect(entries[0]?.key.startsWith("edgecap:clip-image:edgecap-tiny-random-clip:")).toBe(true);
    expect(entries[0]?.expiration_ttl).toBe(604_800);
  });

  it("rejects a TTL below KV's minimum", () => {
    const { result } = runEmbeddings("tiny-random", ["--ttl", "10"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--ttl");
  });
});
