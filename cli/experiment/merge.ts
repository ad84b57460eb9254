// `--merge`: joins the shard folders of one config into the experiment folder (predictions, attention
// dumps and a run.json that lists the shards), after checking that they are complete and agree.
import { copyFile, mkdir, readdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import {
  type PredictionRow,
  REPORT_SCHEMA,
  type RunMetadata,
  type RunTask,
  runMetadataSchema,
} from "../../shared/report/schema.ts";
import type { LoadedConfig } from "./config.ts";
import type { LoadedDataset } from "./dataset.ts";
import { ExperimentError } from "./errors.ts";
import { exists, readJsonFile, writeJsonAtomic } from "./files.ts";
import { describeMachine, describeVersions } from "./metadata.ts";
import { readPredictionFile, rowKey, writePredictionFile } from "./predictions-log.ts";
import { runPaths } from "./run.ts";

interface ShardRun {
  folder: string;
  metadata: RunMetadata;
}

/**
 * Expands the --merge arguments. A folder with run.json is one shard. A folder with a shards/
 * subfolder (the experiment folder of the sharded runs) means every shard in it.
 */
export async function findShardFolders(paths: readonly string[]): Promise<string[]> {
  const folders: string[] = [];
  for (const path of paths) {
    if (await exists(runPaths.metadata(path))) {
      folders.push(resolve(path));
      continue;
    }
    const shardsDir = join(path, "shards");
    const entries = await readdir(shardsDir, { withFileTypes: true }).catch(() => null);
    const found = (entries ?? [])
      .filter((entry) => entry.isDirectory())
      .map((entry) => resolve(shardsDir, entry.name));
    if (found.length === 0) {
      throw new ExperimentError(
        `--merge "${path}" contains neither run.json nor a shards/ folder with shard runs`,
      );
    }
    folders.push(...found.sort());
  }
  return [...new Set(folders)];
}

/** Merges complete shard runs of `loaded` into `outDir` and returns the merged run.json. */
export async function mergeShards(
  loaded: LoadedConfig,
  datasets: readonly LoadedDataset[],
  folders: readonly string[],
  outDir: string,
): Promise<RunMetadata> {
  const shards = await readShardRuns(loaded, folders);
  const first = shards[0] as ShardRun;

  const tasks = new Map<string, RunTask>();
  for (const dataset of datasets) {
    const imageOrder = new Map(dataset.images.map((image, k) => [image.id, k]));
    for (const model of first.metadata.models) {
      const runsOn = shards.some((shard) =>
        shard.metadata.tasks.some(
          (task) => task.dataset === dataset.config.id && task.model === model.id,
        ),
      );
      if (!runsOn) continue;

      const configOrder = new Map(model.configs.map((config, k) => [config, k]));
      const rows = new Map<string, PredictionRow>();
      for (const shard of shards) {
        const file = await readPredictionFile(
          runPaths.predictions(shard.folder, dataset.config.id, model.id),
        );
        for (const row of file.rows) {
          addRow(rows, row, shard.folder);
          if (row.attention !== null) await copyAttention(shard.folder, outDir, row.attention);
        }
      }

      const ordered = [...rows.values()].sort(
        (a, b) =>
          (imageOrder.get(a.image) ?? Number.MAX_SAFE_INTEGER) -
            (imageOrder.get(b.image) ?? Number.MAX_SAFE_INTEGER) ||
          (configOrder.get(a.config) ?? Number.MAX_SAFE_INTEGER) -
            (configOrder.get(b.config) ?? Number.MAX_SAFE_INTEGER),
      );
      await writePredictionFile(runPaths.predictions(outDir, dataset.config.id, model.id), ordered);

      const shardTasks = shards.flatMap((shard) =>
        shard.metadata.tasks.filter(
          (task) => task.dataset === dataset.config.id && task.model === model.id,
        ),
      );
      tasks.set(`${dataset.config.id}/${model.id}`, {
        dataset: dataset.config.id,
        model: model.id,
        images: shardTasks.reduce((sum, task) => sum + task.images, 0),
        rows: ordered.length,
        seconds: shardTasks.reduce((sum, task) => sum + task.seconds, 0),
      });
    }
  }

  const now = new Date().toISOString();
  const merged: RunMetadata = {
    schema: REPORT_SCHEMA,
    kind: "run",
    experiment: first.metadata.experiment,
    config: first.metadata.config,
    shard: null,
    status: "complete",
    sessions: [{ started: now, finished: now, resumed: false, rowsWritten: 0, rowsSkipped: 0 }],
    models: first.metadata.models,
    configs: first.metadata.configs,
    tasks: [...tasks.values()],
    versions: await describeVersions(),
    machine: describeMachine(),
    parts: shards.map((shard) => ({
      shard: shard.metadata.shard as { index: number; count: number },
      folder: shard.folder,
      sessions: shard.metadata.sessions,
      tasks: shard.metadata.tasks,
      machine: shard.metadata.machine,
      versions: shard.metadata.versions,
    })),
  };
  await writeJsonAtomic(runPaths.metadata(outDir), merged);
  return merged;
}

/** Reads every shard's run.json and checks: same config, same shard count, each shard once, all complete. */
async function readShardRuns(
  loaded: LoadedConfig,
  folders: readonly string[],
): Promise<ShardRun[]> {
  const shards: ShardRun[] = [];
  for (const folder of folders) {
    const metadata = await readJsonFile(runPaths.metadata(folder), runMetadataSchema);
    if (metadata.experiment.configSha256 !== loaded.sha256) {
      throw new ExperimentError(
        `shard ${folder} was run with another config (sha256 ${metadata.experiment.configSha256.slice(0, 12)}…); merge shards of this config only`,
      );
    }
    if (metadata.shard === null)
      throw new ExperimentError(`${folder} is not a shard run (run.json has "shard": null)`);
    if (metadata.status !== "complete") {
      throw new ExperimentError(
        `shard ${metadata.shard.index}/${metadata.shard.count} in ${folder} is ${metadata.status}; finish it with --resume first`,
      );
    }
    shards.push({ folder, metadata });
  }

  const count = shards[0]?.metadata.shard?.count;
  if (count === undefined) throw new ExperimentError("--merge found no shard runs");
  const seen = new Map<number, string>();
  for (const shard of shards) {
    const { index, count: shardCount } = shard.metadata.shard as { index: number; count: number };
    if (shardCount !== count)
      throw new ExperimentError(
        `${shard.folder} is one of ${shardCount} shards, but ${shards[0]?.folder} is one of ${count}`,
      );
    const earlier = seen.get(index);
    if (earlier !== undefined)
      throw new ExperimentError(
        `shard ${index}/${count} is given twice: ${earlier} and ${shard.folder}`,
      );
    seen.set(index, shard.folder);
  }
  const missing = Array.from({ length: count }, (_, index) => index).filter(
    (index) => !seen.has(index),
  );
  if (missing.length > 0) {
    throw new ExperimentError(
      `shards ${missing.map((index) => `${index}/${count}`).join(", ")} are missing; run them or pass their folders to --merge`,
    );
  }
  return shards.sort((a, b) => (a.metadata.shard?.index ?? 0) - (b.metadata.shard?.index ?? 0));
}

/** Adds a row; the same key from two shards must carry the same captions. */
function addRow(rows: Map<string, PredictionRow>, row: PredictionRow, folder: string): void {
  const key = rowKey(row.config, row.image);
  const earlier = rows.get(key);
  if (earlier === undefined) {
    rows.set(key, row);
    return;
  }
  if (JSON.stringify(earlier.captions) !== JSON.stringify(row.captions)) {
    throw new ExperimentError(
      `config "${row.config}", image "${row.image}" has different captions in two shards (one in ${folder}); the shards overlap`,
    );
  }
}

async function copyAttention(
  shardFolder: string,
  outDir: string,
  relativePath: string,
): Promise<void> {
  const target = join(outDir, relativePath);
  await mkdir(dirname(target), { recursive: true });
  await copyFile(join(shardFolder, relativePath), target);
}
