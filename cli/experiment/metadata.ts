// Facts about the machine and software of a run, recorded in run.json.
import { readFile } from "node:fs/promises";
import { arch, cpus, platform, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import type { Machine } from "../../shared/report/schema.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Packages whose versions can change captions or scores. */
const RECORDED_PACKAGES = ["onnxruntime-node", "onnxruntime-web", "zod"];

export function describeMachine(): Machine {
  const cores = cpus();
  return {
    platform: platform(),
    arch: arch(),
    release: release(),
    cpuModel: cores[0]?.model.trim() ?? "unknown",
    cpuCount: cores.length,
    memoryBytes: totalmem(),
  };
}

/** Versions of edgecap, Node and the packages that matter; a package that cannot be read is left out. */
export async function describeVersions(): Promise<Record<string, string>> {
  const versions: Record<string, string> = { node: process.versions.node };
  const edgecap = await readVersion(`${REPO_ROOT}package.json`);
  if (edgecap !== null) versions.edgecap = edgecap;
  for (const name of RECORDED_PACKAGES) {
    const version = await readVersion(`${REPO_ROOT}node_modules/${name}/package.json`);
    if (version !== null) versions[name] = version;
  }
  return versions;
}

async function readVersion(packageJson: string): Promise<string | null> {
  try {
    const { version } = JSON.parse(await readFile(packageJson, "utf8")) as { version?: unknown };
    return typeof version === "string" ? version : null;
  } catch {
    return null;
  }
}
