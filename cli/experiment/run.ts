// The captioning stage: every (dataset, model, config, image) of this shard becomes one prediction
// row, appended to predictions/<dataset>/<model>.jsonl, with attention dumps for the chosen images.
// run.json records the session before and after, so a failed or interrupted run can resume.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type AttentionDocument, attentionDocumentSchema } from "../../shared/attention/schema.ts";
import {
  type PredictionRow,
  REPORT_SCHEMA,
  type RunMetadata,
  type RunSession,
  type RunTask,
  runMetadataSchema,
} from "../../shared/report/schema.ts";
import type { AttentionSelection, LoadedConfig } from "./config.ts";
import { type LoadedDataset, loadDataset } from "./dataset.ts";
import { ExperimentError } from "./errors.ts";
import { exists, readJsonFile, writeJsonAtomic } from "./files.ts";
import { describeMachine, describeVersions } from "./metadata.ts";
import type { ModelFactories } from "./models.ts";
import { PredictionLog, rowKey } from "./predictions-log.ts";
import { type ProgressStream, TaskProgress } from "./progress.ts";
import { type Shard, shardImages } from "./shard.ts";
import { type CaptionSource, openSources, sourcesFor } from "./sources.ts";

export interface RunOptions {
  loaded: LoadedConfig;
  /** Folder this run writes: the experiment folder, or a shard's folder under it. */
  runDir: string;
  shard: Shard | null;
  resume: boolean;
}

export interface RunDependencies {
  factories: ModelFactories;
  stderr: ProgressStream;
  /** Milliseconds, for progress and task seconds. */
  now?: () => number;
}

/** Paths inside an experiment or shard folder. */
export const runPaths = {
  metadata: (dir: string) => join(dir, "run.json"),
  predictions: (dir: string, dataset: string, model: string) =>
    join(dir, "predictions", dataset, `${model}.jsonl`),
  /** Relative to the run folder, as rows and the report store it. */
  attention: (dataset: string, model: string, config: string, image: string) =>
    `attention/${dataset}/${model}/${config}/${image}.json`,
};

export interface RunOutcome {
  metadata: RunMetadata;
  datasets: LoadedDataset[];
}

/** Captions everything this shard owns that is not in its predictions files yet; returns run.json and the datasets. */
export async function runCaptioning(
  options: RunOptions,
  deps: RunDependencies,
): Promise<RunOutcome> {
  const { loaded, runDir, shard, resume } = options;
  const now = deps.now ?? (() => performance.now());

  const previous = await readPreviousRun(runDir, loaded, shard, resume);
  const datasets: LoadedDataset[] = [];
  for (let d = 0; d < loaded.config.datasets.length; d++)
    datasets.push(await loadDataset(loaded, d));
  for (const dataset of datasets) {
    for (const warning of dataset.warnings) deps.stderr.write(`warning: ${warning}\n`);
  }
  const sources = await openSources(loaded, deps.factories);

  const session: RunSession = {
    started: new Date().toISOString(),
    finished: null,
    resumed: previous !== null,
    rowsWritten: 0,
    rowsSkipped: 0,
  };
  const metadata: RunMetadata = {
    schema: REPORT_SCHEMA,
    kind: "run",
    experiment: {
      id: loaded.config.id,
      title: loaded.config.title,
      configPath: loaded.path,
      configSha256: loaded.sha256,
    },
    config: loaded.config as unknown as Record<string, unknown>,
    shard,
    status: "running",
    sessions: [...(previous?.sessions ?? []), session],
    models: sources.map((source) => source.model),
    configs: uniqueConfigs(sources),
    tasks: previous?.tasks ?? [],
    versions: await describeVersions(),
    machine: describeMachine(),
  };
  await writeJsonAtomic(runPaths.metadata(runDir), metadata);

  try {
    for (const dataset of datasets) {
      for (const source of sourcesFor(dataset.config.id, sources)) {
        const task = await captionTask({
          loaded,
          runDir,
          shard,
          resume,
          dataset,
          source,
          session,
          stderr: deps.stderr,
          now,
        });
        metadata.tasks = mergeTask(metadata.tasks, task);
      }
    }
  } catch (error) {
    metadata.status = "failed";
    metadata.error = error instanceof Error ? error.message : String(error);
    session.finished = new Date().toISOString();
    await writeJsonAtomic(runPaths.metadata(runDir), metadata);
    throw error;
  }

  metadata.status = "complete";
  session.finished = new Date().toISOString();
  await writeJsonAtomic(runPaths.metadata(runDir), metadata);
  return { metadata, datasets };
}

/**
 * Reads run.json of an earlier session. Without --resume an existing run is an error, so a second
 * run never appends to the first by accident. With --resume, the config and shard must match.
 */
async function readPreviousRun(
  runDir: string,
  loaded: LoadedConfig,
  shard: Shard | null,
  resume: boolean,
): Promise<RunMetadata | null> {
  const path = runPaths.metadata(runDir);
  if (!(await exists(path))) return null;
  if (!resume) {
    throw new ExperimentError(
      `${runDir} already contains a run (run.json); pass --resume to continue it, or choose another --out`,
    );
  }

  const previous = await readJsonFile(path, runMetadataSchema);
  if (previous.experiment.configSha256 !== loaded.sha256) {
    throw new ExperimentError(
      `${path} was written with another config (sha256 ${previous.experiment.configSha256.slice(0, 12)}…, this one ${loaded.sha256.slice(0, 12)}…); resume with the same config or choose another --out`,
    );
  }
  const before =
    previous.shard === null ? "none" : `${previous.shard.index}/${previous.shard.count}`;
  const now = shard === null ? "none" : `${shard.index}/${shard.count}`;
  if (before !== now)
    throw new ExperimentError(
      `${path} is shard ${before}, but this run requests shard ${now}; pass the same --shard`,
    );
  return previous;
}

interface TaskContext {
  loaded: LoadedConfig;
  runDir: string;
  shard: Shard | null;
  resume: boolean;
  dataset: LoadedDataset;
  source: CaptionSource;
  session: RunSession;
  stderr: ProgressStream;
  now: () => number;
}

/** Captions one dataset with one model: each image of the shard under each of the model's configs. */
async function captionTask(context: TaskContext): Promise<RunTask> {
  const { loaded, runDir, shard, dataset, source, session, stderr, now } = context;
  const images = shardImages(dataset.images, shard);
  const attentionIds = selectAttentionImages(
    dataset,
    dataset.config.attention ?? loaded.config.attention,
  );
  const path = runPaths.predictions(runDir, dataset.config.id, source.model.id);
  const { log, existing } = await PredictionLog.open(path, context.resume);

  const label = `${dataset.config.id} / ${source.model.id}`;
  if (existing.partialTail)
    stderr.write(`${label}: removed a partial last line of ${path} left by an interrupted write\n`);
  const total = images.length * source.configs.length;
  const already = images.reduce(
    (sum, image) =>
      sum + source.configs.filter((config) => log.keys.has(rowKey(config.id, image.id))).length,
    0,
  );
  session.rowsSkipped += already;
  const progress = new TaskProgress(stderr, label, total, already, now);
  const started = now();
  let uncovered = 0;
  let failed = true;

  try {
    for (const image of images) {
      let bytes: Promise<Uint8Array> | undefined;
      const readImage = (): Promise<Uint8Array> => {
        if (dataset.imageDir === null || image.file === null) {
          throw new ExperimentError(
            `dataset "${dataset.config.id}" has no image file for "${image.id}"`,
          );
        }
        bytes ??= readFile(join(dataset.imageDir, image.file)).then(
          (buffer) => new Uint8Array(buffer),
        );
        return bytes;
      };

      for (const config of source.configs) {
        if (log.keys.has(rowKey(config.id, image.id))) continue;
        const wantAttention = attentionIds.has(image.id);
        const rowStarted = now();
        const output = await source.caption(config.id, image, readImage, wantAttention);
        if (output === null) {
          uncovered++;
          continue;
        }

        let attentionPath: string | null = null;
        if (wantAttention && output.attention !== null) {
          attentionPath = runPaths.attention(
            dataset.config.id,
            source.model.id,
            config.id,
            image.id,
          );
          // The dump is on disk before its row, so a row never points at a missing file.
          await writeJsonAtomic(
            join(runDir, attentionPath),
            checkAttention(output.attention, label, image.id),
            0,
          );
        }

        const row: PredictionRow = {
          config: config.id,
          image: image.id,
          captions: output.captions,
          timings: roundTimings({ ...output.timings, wall_ms: Math.max(0, now() - rowStarted) }),
          attention: attentionPath,
        };
        log.append(row);
        if (log.pendingRows >= loaded.config.batchSize) {
          await log.flush();
          progress.advance(loaded.config.batchSize);
        }
      }
    }
    failed = false;
  } finally {
    // Rows finished before a failure are valid, so they are kept for --resume.
    const pending = log.pendingRows;
    await log.flush();
    await log.close();
    progress.advance(pending);
    session.rowsWritten += log.written;
    const notes = [];
    if (already > 0) notes.push(`${already} from earlier sessions`);
    if (uncovered > 0) notes.push(`${uncovered} without a caption in the import`);
    if (failed) notes.push("stopped by an error");
    progress.finish(notes.join(", "));
  }

  return {
    dataset: dataset.config.id,
    model: source.model.id,
    images: images.length,
    rows: log.keys.size,
    seconds: (now() - started) / 1000,
  };
}

/** Milliseconds to the microsecond; finer digits are timer noise. */
function roundTimings(timings: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(timings).map(([stage, ms]) => [stage, Math.round(ms * 1000) / 1000]),
  );
}

function checkAttention(
  document: AttentionDocument,
  label: string,
  imageId: string,
): AttentionDocument {
  const parsed = attentionDocumentSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ExperimentError(
      `${label}: the attention document of image "${imageId}" is invalid at ${issue?.path.join("/")}: ${issue?.message}`,
    );
  }
  return document;
}

/** Selects the image ids to dump attention for. Ids not in the dataset are ignored, so one list can serve several datasets. */
export function selectAttentionImages(
  dataset: LoadedDataset,
  selection: AttentionSelection,
): Set<string> {
  if ("first" in selection)
    return new Set(dataset.images.slice(0, selection.first).map((image) => image.id));
  const known = new Set(dataset.images.map((image) => image.id));
  return new Set(selection.ids.filter((id) => known.has(id)));
}

/** Adds this session's task to the earlier sessions' record of the same (dataset, model). */
function mergeTask(tasks: readonly RunTask[], task: RunTask): RunTask[] {
  const earlier = tasks.find((item) => item.dataset === task.dataset && item.model === task.model);
  const others = tasks.filter((item) => item !== earlier);
  return [
    ...others,
    earlier === undefined ? task : { ...task, seconds: earlier.seconds + task.seconds },
  ];
}

function uniqueConfigs(sources: readonly CaptionSource[]): RunMetadata["configs"] {
  const configs = new Map<string, RunMetadata["configs"][number]>();
  for (const source of sources) {
    for (const config of source.configs)
      if (!configs.has(config.id)) configs.set(config.id, config);
  }
  return [...configs.values()];
}
