// ONNX sessions are created lazily and cached per isolate as promises; a failed load is dropped
// from the cache, so the next request retries it.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AssetsBinding, Bindings } from "../../functions/env.ts";
import type { PackageEntry } from "../../functions/models/registry.ts";
import { loadCaptioner } from "../../functions/models/sessions.ts";
import { ModelPackageError } from "../../shared/runtime/errors.ts";

const realAssets = (env as unknown as Bindings).ASSETS as AssetsBinding;

/** Builds an ASSETS binding whose first `failures` requests fail with HTTP 500. */
function flakyAssets(failures: number): AssetsBinding & { requests: number } {
  const binding = {
    requests: 0,
    fetch(input: Request | string, init?: RequestInit): Promise<Response> {
      binding.requests++;
      if (binding.requests <= failures)
        return Promise.resolve(new Response("unavailable", { status: 500 }));
      return realAssets.fetch(input, init);
    },
  };
  return binding;
}

function entry(name: string): PackageEntry {
  // A distinct cache name per test, pointing at the tiny random package's folder through a proxy.
  return {
    name,
    id: "edgecap-tiny-random",
    kind: "captioner",
    source: "test/fixtures/packages",
    manifest_sha256: "",
  };
}

/** Maps the cache name back to the real folder, so each test gets a fresh cache slot. */
function folderAlias(assets: AssetsBinding, alias: string): AssetsBinding {
  return {
    fetch: (input, init) =>
      assets.fetch(String(input).replace(`/models/${alias}/`, "/models/tiny-random/"), init),
  };
}

describe("captioner sessions", () => {
  it("retries a failed load on the next request", async () => {
    const assets = flakyAssets(1);
    const bindings: Bindings = { ASSETS: folderAlias(assets, "retry-case") };

    await expect(loadCaptioner(bindings, entry("retry-case"))).rejects.toBeInstanceOf(
      ModelPackageError,
    );
    const captioner = await loadCaptioner(bindings, entry("retry-case"));

    expect(captioner.id).toBe("edgecap-tiny-random");
  });

  it("shares one load between concurrent requests", async () => {
    const assets = flakyAssets(0);
    const bindings: Bindings = { ASSETS: folderAlias(assets, "shared-case") };

    const [first, second] = await Promise.all([
      loadCaptioner(bindings, entry("shared-case")),
      loadCaptioner(bindings, entry("shared-case")),
    ]);
    const requestsAfterLoad = assets.requests;
    const third = await loadCaptioner(bindings, entry("shared-case"));

    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(assets.requests).toBe(requestsAfterLoad);
  });
});
