// GET /v1/models: the model packages this server has, with their manifest hashes, preprocessing
// and metrics of record, and the LLaVA backend's configuration (never its key).
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv, Bindings } from "../env.ts";
import { readList } from "../env.ts";
import { ASSET_ORIGIN, type PackageEntry, readPackageIndex } from "../models/registry.ts";

const manifests = new Map<string, Promise<Record<string, unknown>>>();

function readManifest(env: Bindings, entry: PackageEntry): Promise<Record<string, unknown>> {
  const existing = manifests.get(entry.name);
  if (existing !== undefined) return existing;
  const assets = env.ASSETS;
  const pending = (async () => {
    if (assets === undefined) throw new Error("the ASSETS binding is missing");
    const response = await assets.fetch(`${ASSET_ORIGIN}/models/${entry.name}/manifest.json`);
    if (!response.ok) throw new Error(`manifest.json of ${entry.name}: HTTP ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  })();
  manifests.set(entry.name, pending);
  pending.catch(() => manifests.delete(entry.name));
  return pending;
}

const modelSchema = z
  .object({
    id: z.string(),
    name: z.string().optional(),
    kind: z.enum(["captioner", "clip"]),
    family: z.string().nullable(),
    sha256: z.string().nullable(),
    default: z.boolean(),
    source: z.string().optional(),
    preprocessing: z.record(z.string(), z.unknown()).nullable(),
    metrics: z.record(z.string(), z.unknown()).nullable(),
    backend: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("Model");

function firstMatch(
  packages: PackageEntry[],
  kind: string,
  configured: string | undefined,
): string | undefined {
  for (const name of readList(configured)) {
    const entry = packages.find(
      (candidate) => candidate.kind === kind && (candidate.id === name || candidate.name === name),
    );
    if (entry !== undefined) return entry.id;
  }
  return packages.find((candidate) => candidate.kind === kind)?.id;
}

export function registerModelRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/v1/models",
    summary: "List the models",
    responses: {
      200: {
        description: "Every model package, then llava.",
        content: { "application/json": { schema: z.object({ models: z.array(modelSchema) }) } },
      },
    },
  });

  app.get("/v1/models", async (c) => {
    const packages = await readPackageIndex(c.env);
    const defaults = new Set([
      firstMatch(packages, "captioner", c.env.EDGECAP_DEFAULT_CAPTIONER),
      firstMatch(packages, "clip", c.env.EDGECAP_DEFAULT_CLIP),
    ]);
    const models: Record<string, unknown>[] = await Promise.all(
      packages.map(async (entry) => {
        const manifest = await readManifest(c.env, entry);
        return {
          id: entry.id,
          name: entry.name,
          kind: entry.kind,
          family: typeof manifest.family === "string" ? manifest.family : null,
          sha256: entry.manifest_sha256,
          default: defaults.has(entry.id),
          source: entry.source,
          preprocessing: (manifest.preprocessing as Record<string, unknown> | undefined) ?? null,
          metrics: (manifest.metrics as Record<string, unknown> | undefined) ?? null,
        };
      }),
    );
    const kind = c.env.LLAVA_BACKEND_KIND ?? "vllm";
    const configured =
      kind === "workers-ai" ? c.env.AI !== undefined : (c.env.LLAVA_BASE_URL ?? "") !== "";
    models.push({
      id: "llava",
      kind: "captioner",
      family: "llava-1.5",
      sha256: null,
      default: false,
      preprocessing: null,
      metrics: null,
      backend: { kind, model: c.env.LLAVA_MODEL ?? null, configured },
    });
    return c.json({ models });
  });
}
