// Builds report.json, the compact index the report site reads, from a complete (unsharded or
// merged) experiment folder: run.json, the predictions files and the datasets' references.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { roundSignificant } from "../../shared/attention/schema.ts";
import {
  type ClipScoreExtremes,
  type HistogramInput,
  METRIC_DESCRIPTIONS,
  METRIC_IDS,
  type MetricValues,
  type PredictionRow,
  REPORT_SCHEMA,
  type Report,
  type ReportImage,
  type ReportModel,
  type ReportResult,
  type RunMetadata,
  reportSchema,
} from "../../shared/report/schema.ts";
import type { LoadedConfig } from "./config.ts";
import { resolveConfigPath } from "./config.ts";
import type { DatasetImage, LoadedDataset } from "./dataset.ts";
import { posixRelative, writeJsonAtomic } from "./files.ts";
import type { ModelFactories } from "./models.ts";
import { readPredictionFile } from "./predictions-log.ts";
import type { ProgressStream } from "./progress.ts";
import { runPaths } from "./run.ts";
import { ClipScorer, scoreCorpus } from "./scoring.ts";
import { readVariantMetadata } from "./variant.ts";

export interface ReportOptions {
  loaded: LoadedConfig;
  datasets: readonly LoadedDataset[];
  run: RunMetadata;
  outDir: string;
}

export interface ReportDependencies {
  factories: ModelFactories;
  stderr: ProgressStream;
}

/** Scores every (dataset, model, config) of the run and writes OUT/report.json. */
export async function writeReport(
  options: ReportOptions,
  deps: ReportDependencies,
): Promise<Report> {
  const { loaded, datasets, run, outDir } = options;
  const clip =
    loaded.config.clip === undefined
      ? null
      : new ClipScorer(
          await deps.factories.clip(resolveConfigPath(loaded, loaded.config.clip.package)),
          loaded.config.clip.prefix,
        );

  const results: ReportResult[] = [];
  const images: ReportImage[] = [];
  const extremes: ClipScoreExtremes[] = [];
  const histograms: HistogramInput[] = [];
  const modelDatasets = new Map<string, string[]>();

  for (const dataset of datasets) {
    const datasetId = dataset.config.id;
    const rowsByImage = dataset.images.map((image) => ({
      image,
      results: [] as ReportImage["results"],
    }));
    const readImage =
      dataset.imageDir === null
        ? null
        : (image: DatasetImage) =>
            readFile(join(dataset.imageDir as string, image.file as string)).then(
              (buffer) => new Uint8Array(buffer),
            );

    for (const model of run.models) {
      if (!run.tasks.some((task) => task.dataset === datasetId && task.model === model.id))
        continue;
      modelDatasets.set(model.id, [...(modelDatasets.get(model.id) ?? []), datasetId]);
      const rows = await readRows(runPaths.predictions(outDir, datasetId, model.id));

      for (const configId of model.configs) {
        const covered = rowsByImage.filter(({ image }) => rows.has(`${configId}/${image.id}`));
        const scored = covered.map(
          ({ image }) => rows.get(`${configId}/${image.id}`) as PredictionRow,
        );
        deps.stderr.write(
          `scoring ${datasetId} / ${model.id} / ${configId}: ${scored.length} images\n`,
        );
        const scores = await scoreCorpus(
          {
            datasetId,
            images: covered.map(({ image }) => image),
            captions: scored.map((row) => row.captions[0] as string),
            hasReferences: dataset.hasReferences,
            readImage,
          },
          clip,
        );

        const missing = dataset.images.length - covered.length;
        const warnings = [...scores.warnings];
        if (missing > 0)
          warnings.push(
            `${missing} of ${dataset.images.length} images have no caption; the metrics average over the other ${covered.length}`,
          );
        results.push({
          dataset: datasetId,
          model: model.id,
          config: configId,
          imageCount: covered.length,
          missingImages: missing,
          metrics: rounded(scores.corpus),
          clipPrefix: scores.corpus.clip_score === null ? null : (clip?.prefix ?? null),
          warnings,
        });

        covered.forEach((entry, i) => {
          const row = scored[i] as PredictionRow;
          entry.results.push({
            model: model.id,
            config: configId,
            captions: row.captions,
            scores: rounded(scores.perImage[i] as MetricValues),
            attention: row.attention,
          });
        });

        const perImage = scores.perImage.map(rounded);
        for (const metric of METRIC_IDS) {
          const values = perImage
            .map((values) => values[metric])
            .filter((value): value is number => value !== null);
          if (values.length > 0)
            histograms.push({
              dataset: datasetId,
              model: model.id,
              config: configId,
              metric,
              values,
            });
        }
        if (scores.corpus.clip_score !== null) {
          extremes.push(
            clipExtremes(
              datasetId,
              model.id,
              configId,
              covered.map(({ image }) => image.id),
              scored,
              perImage,
              loaded.config.report.extremes,
            ),
          );
        }
      }
    }

    for (const { image, results: imageResults } of rowsByImage) {
      images.push({
        dataset: datasetId,
        id: image.id,
        sourceId: image.sourceId,
        file: image.file,
        width: image.width,
        height: image.height,
        references: image.references,
        results: imageResults,
      });
    }
  }

  const models: ReportModel[] = [];
  for (const model of run.models) {
    const config = loaded.config.models.find((item) => item.id === model.id);
    const { variant, warnings } = await readVariantMetadata(loaded, model.id, config?.variant);
    for (const warning of warnings) deps.stderr.write(`warning: ${warning}\n`);
    models.push({
      id: model.id,
      label: model.label,
      kind: model.kind,
      family: model.family,
      sha256: model.sha256,
      synthetic: model.synthetic,
      variant,
      datasets: modelDatasets.get(model.id) ?? [],
      configs: model.configs,
    });
  }

  const report: Report = {
    schema: REPORT_SCHEMA,
    kind: "report",
    experiment: {
      id: run.experiment.id,
      title: run.experiment.title,
      configSha256: run.experiment.configSha256,
      generated: new Date().toISOString(),
    },
    metrics: METRIC_IDS.map((id) => ({ id, ...METRIC_DESCRIPTIONS[id] })),
    datasets: datasets.map((dataset) => ({
      id: dataset.config.id,
      label: dataset.config.label ?? dataset.config.id,
      synthetic: dataset.config.synthetic,
      imageCount: dataset.images.length,
      hasReferences: dataset.hasReferences,
      imageRoot: dataset.imageDir === null ? null : posixRelative(outDir, dataset.imageDir),
    })),
    models,
    configs: run.configs,
    results,
    images,
    clipScoreExtremes: extremes,
    histograms,
  };

  // Checked before writing, so the site never receives a file its schema rejects.
  const parsed = reportSchema.safeParse(report);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `the report does not match ${REPORT_SCHEMA} at ${issue?.path.join("/")}: ${issue?.message}`,
    );
  }
  await writeJsonAtomic(join(outDir, "report.json"), report, 0);
  return report;
}

/** Rows of a predictions file keyed "<config>/<image>". */
async function readRows(path: string): Promise<Map<string, PredictionRow>> {
  const file = await readPredictionFile(path);
  return new Map(file.rows.map((row) => [`${row.config}/${row.image}`, row]));
}

/** Rounds every value to 6 significant digits, the precision the attention dumps keep too. */
function rounded(values: MetricValues): MetricValues {
  return Object.fromEntries(
    Object.entries(values).map(([metric, value]) => [
      metric,
      value === null ? null : roundSignificant(value),
    ]),
  ) as MetricValues;
}

/** Picks the `count` best and worst image-caption pairs by CLIPScore; ties go to the smaller image id. */
function clipExtremes(
  dataset: string,
  model: string,
  config: string,
  imageIds: readonly string[],
  rows: readonly PredictionRow[],
  perImage: readonly MetricValues[],
  count: number,
): ClipScoreExtremes {
  const pairs = imageIds.map((image, i) => ({
    image,
    caption: (rows[i] as PredictionRow).captions[0] as string,
    clipScore: (perImage[i] as MetricValues).clip_score as number,
  }));
  const byId = (a: { image: string }, b: { image: string }): number =>
    compareCodeUnits(a.image, b.image);
  const top = [...pairs].sort((a, b) => b.clipScore - a.clipScore || byId(a, b)).slice(0, count);
  const bottom = [...pairs].sort((a, b) => a.clipScore - b.clipScore || byId(a, b)).slice(0, count);
  return { dataset, model, config, top, bottom };
}

/** Orders strings by UTF-16 code units, the same on every locale. */
function compareCodeUnits(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}
