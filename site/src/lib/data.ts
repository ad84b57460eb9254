// The report data the site is built from: report.json (`edgecap.report/v1`) and the attention dumps
// it points to (`edgecap.attention/v1`), read once at build time and validated with the shared zod
// schemas. Pages read the data only through this module.
//
// The folder comes from the EDGECAP_REPORT_DATA environment variable, else `site/data`; a relative
// path is resolved against the working directory (the repository root under `npm run`).
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  type AttentionDocument,
  attentionFileSchema,
  type MetricId,
  type Report,
  type ReportConfig,
  type ReportDataset,
  type ReportImage,
  type ReportImageResult,
  type ReportModel,
  type ReportResult,
  reportSchema,
} from "../../../shared/report/schema.ts";

export type {
  AttentionDocument,
  MetricId,
  Report,
  ReportConfig,
  ReportDataset,
  ReportImage,
  ReportImageResult,
  ReportModel,
  ReportResult,
};

/** One attention document together with the report entries it belongs to. */
export interface AttentionEntry {
  dataset: ReportDataset;
  model: ReportModel;
  config: ReportConfig;
  image: ReportImage;
  document: AttentionDocument;
  /** True when the document, its model or its dataset is marked synthetic. */
  synthetic: boolean;
}

export interface SiteData {
  /** Absolute path of the folder that contains report.json. */
  folder: string;
  report: Report;
  datasets: Map<string, ReportDataset>;
  models: Map<string, ReportModel>;
  configs: Map<string, ReportConfig>;
  attention: AttentionEntry[];
}

let cached: SiteData | undefined;

/** Loads and validates the report data once per build; later calls return the same object. */
export function loadSiteData(): SiteData {
  cached ??= readSiteData(resolve(process.env.EDGECAP_REPORT_DATA ?? "site/data"));
  return cached;
}

/** Reads report.json from `folder`, checks that its references resolve and loads the attention dumps. */
export function readSiteData(folder: string): SiteData {
  const reportPath = resolve(folder, "report.json");
  if (!existsSync(reportPath)) {
    throw new Error(
      `report data not found: ${reportPath} does not exist; set EDGECAP_REPORT_DATA to a folder with report.json (written by \`edgecap experiment\`)`,
    );
  }
  const parsed = reportSchema.safeParse(JSON.parse(readFileSync(reportPath, "utf8")));
  if (!parsed.success) {
    throw new Error(
      `${reportPath} is not a valid edgecap.report/v1 document: ${parsed.error.message}`,
    );
  }
  const report = parsed.data;

  const datasets = indexById(report.datasets, "dataset");
  const models = indexById(report.models, "model");
  const configs = indexById(report.configs, "config");
  checkReferences(report, datasets, models, configs);

  const attention = loadAttention(folder, report, datasets, models, configs);
  return { folder, report, datasets, models, configs, attention };
}

function indexById<T extends { id: string }>(entries: T[], kind: string): Map<string, T> {
  const map = new Map<string, T>();
  for (const entry of entries) {
    if (map.has(entry.id))
      throw new Error(`report.json lists ${kind} ${JSON.stringify(entry.id)} twice`);
    map.set(entry.id, entry);
  }
  return map;
}

function checkReferences(
  report: Report,
  datasets: Map<string, ReportDataset>,
  models: Map<string, ReportModel>,
  configs: Map<string, ReportConfig>,
): void {
  const check = (map: Map<string, unknown>, id: string, kind: string, where: string): void => {
    if (!map.has(id)) {
      throw new Error(
        `report.json: ${where} names ${kind} ${JSON.stringify(id)}, which is not in "${kind}s"`,
      );
    }
  };
  for (const result of report.results) {
    const where = `result ${result.dataset}/${result.model}/${result.config}`;
    check(datasets, result.dataset, "dataset", where);
    check(models, result.model, "model", where);
    check(configs, result.config, "config", where);
  }
  for (const image of report.images) {
    check(datasets, image.dataset, "dataset", `image ${image.id}`);
    for (const result of image.results) {
      check(models, result.model, "model", `image ${image.id}`);
      check(configs, result.config, "config", `image ${image.id}`);
    }
  }
}

function loadAttention(
  folder: string,
  report: Report,
  datasets: Map<string, ReportDataset>,
  models: Map<string, ReportModel>,
  configs: Map<string, ReportConfig>,
): AttentionEntry[] {
  // A file may hold the documents of several images (the LLaVA importer writes one per run), so
  // each file is parsed once.
  const files = new Map<string, AttentionDocument[]>();
  const entries: AttentionEntry[] = [];

  for (const image of report.images) {
    for (const result of image.results) {
      if (result.attention === null) continue;
      const path = resolve(folder, result.attention);
      let documents = files.get(path);
      if (documents === undefined) {
        documents = readAttentionFile(path);
        files.set(path, documents);
      }

      const document = pickDocument(
        documents,
        image.id,
        configs.get(result.config) as ReportConfig,
      );
      if (document === undefined) {
        throw new Error(
          `attention document for image ${JSON.stringify(image.id)} not found in ${path}, the file report.json names for it`,
        );
      }
      const dataset = datasets.get(image.dataset) as ReportDataset;
      const model = models.get(result.model) as ReportModel;
      const marked = (document as { synthetic?: unknown }).synthetic === true;
      entries.push({
        dataset,
        model,
        config: configs.get(result.config) as ReportConfig,
        image,
        document,
        synthetic: marked || model.synthetic || dataset.synthetic,
      });
    }
  }
  return entries;
}

function readAttentionFile(path: string): AttentionDocument[] {
  if (!existsSync(path))
    throw new Error(`attention dump not found: ${path} (named in report.json)`);
  const parsed = attentionFileSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) {
    throw new Error(`${path} is not a valid edgecap.attention/v1 file: ${parsed.error.message}`);
  }
  return Array.isArray(parsed.data) ? parsed.data : [parsed.data];
}

/**
 * Picks the document of `imageId`. When a file contains several for the image, the one whose
 * config name equals the report config's `decoding` wins.
 */
function pickDocument(
  documents: AttentionDocument[],
  imageId: string,
  config: ReportConfig,
): AttentionDocument | undefined {
  const forImage = documents.filter((document) => document.image.id === imageId);
  if (forImage.length <= 1) return forImage[0];
  return forImage.find((document) => document.config.name === config.decoding) ?? forImage[0];
}

/** Absolute path of an image's file, or null when the dataset has no image files. */
export function imageFilePath(data: SiteData, image: ReportImage): string | null {
  const dataset = data.datasets.get(image.dataset);
  if (dataset?.imageRoot == null || image.file === null) return null;
  return resolve(data.folder, dataset.imageRoot, image.file);
}

/**
 * Returns true when a dataset contains COCO photos, which the pages pair with the note on the demo models.
 * NOTE: report.json has no field for the image source, so this reads the dataset's id and label.
 */
export function isCocoDataset(dataset: ReportDataset): boolean {
  return /coco/i.test(`${dataset.id} ${dataset.label}`);
}

/**
 * Returns true when a model is one of edgecap's own prefix-GPT-2 captioners, which were trained only on the
 * synthetic demo domain because no pretrained captioner weights can be downloaded here.
 */
export function isDemoModel(model: ReportModel): boolean {
  return model.family === "prefix-gpt2";
}

/** Returns the result rows of a dataset, in the report's order. */
export function resultsOf(data: SiteData, datasetId: string): ReportResult[] {
  return data.report.results.filter((result) => result.dataset === datasetId);
}

/** Label of a metric from report.json, falling back to its id. */
export function metricLabel(data: SiteData, id: MetricId): string {
  return data.report.metrics.find((metric) => metric.id === id)?.label ?? id;
}

/** Text identifying the data in page footers. */
export function dataLabel(data: SiteData): string {
  const { experiment } = data.report;
  return `experiment "${experiment.title}" (${experiment.id}), report written ${experiment.generated}`;
}

/** True when any model or dataset in the report is marked synthetic. */
export function hasSyntheticData(data: SiteData): boolean {
  return (
    data.report.models.some((model) => model.synthetic) ||
    data.report.datasets.some((d) => d.synthetic)
  );
}
