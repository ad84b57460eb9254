// `edgecap evaluate`: scores a predictions file against a references file with BLEU-1..4, ROUGE-L
// and CIDEr-D, as the COCO caption evaluation (pycocoevalcap) computes them.

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parseEvaluationFiles } from "../../shared/formats/evaluation-input.ts";
import { ValidationError, type ValidationProblem } from "../../shared/formats/validation-error.ts";
import { DocumentFrequencyTable } from "../../shared/metrics/document-frequency.ts";
import {
  METRIC_NAMES,
  type MetricName,
  type MetricScores,
  type ScoreReport,
  scoreCaptions,
} from "../../shared/metrics/score.ts";
import { ModelPackageError } from "../../shared/runtime/errors.ts";
import {
  type ClipScoringOutput,
  MissingImageFilesError,
  scoreImagesWithClip,
} from "../clip-scoring.ts";
import { type Command, EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, UsageError } from "../command.ts";
import { checkOutputPath, writeOutputFile } from "../output-file.ts";

const USAGE = `Usage: edgecap evaluate --predictions FILE --references FILE [options]

Scores candidate captions against reference captions with BLEU-1..4, ROUGE-L and CIDEr-D as the
COCO caption evaluation (pycocoevalcap) computes them, after PTB tokenization.

Options:
  --predictions FILE  candidate captions: an object {"<image file name without extension>": "caption"},
                      or a COCO results list [{"image_id": 397133, "caption": "..."}]
  --references FILE   reference captions in the COCO caption layout:
                      {"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}
  --metrics LIST      comma-separated subset of ${METRIC_NAMES.join(",")} (default: all)
  --per-image FILE    also write per-image scores to FILE: CSV when it ends in .csv, JSON otherwise
  --format FORMAT     output on stdout: table (default) or json
  --df FILE           CIDEr-D document frequencies from a table built by \`edgecap df\`, instead of
                      from the evaluated references (needed to score a single image)
  --no-tokenize       skip PTB tokenization: the captions are already lower-case tokens joined by spaces
  --images DIR        with --clip: the images, named <image file name without extension>.jpg/.png/...
  --clip DIR          with --images: a CLIP package; adds CLIPScore and RefCLIPScore
  --clip-prefix TEXT  text put before every caption for CLIPScore, e.g. "A photo depicts " (default none)

Exit status: 0 scored, 1 invalid input data, 2 invalid usage or unreadable file.`;

const OPTIONS = {
  images: { type: "string" },
  clip: { type: "string" },
  "clip-prefix": { type: "string", default: "" },
  predictions: { type: "string" },
  references: { type: "string" },
  metrics: { type: "string" },
  "per-image": { type: "string" },
  format: { type: "string", default: "table" },
  df: { type: "string" },
  "no-tokenize": { type: "boolean", default: false },
} as const;

/** Corpora from this many images on get a progress bar when stderr is a terminal. */
const PROGRESS_MIN_IMAGES = 1000;

/** Validation problems printed before the rest are only counted. */
const PRINTED_PROBLEMS = 50;

export const command: Command = {
  summary: "Score captions with BLEU-1..4, ROUGE-L and CIDEr-D (COCO caption evaluation)",
  usage: USAGE,
  run,
};

async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(() =>
    parseArgs({ args: argv, options: OPTIONS, allowPositionals: false }),
  );
  const predictionsPath = requireOption(values.predictions, "--predictions");
  const referencesPath = requireOption(values.references, "--references");
  const metrics = parseMetrics(values.metrics);
  const format = values.format;
  if (format !== "table" && format !== "json") {
    throw new UsageError(`--format must be "table" or "json", got "${format}"`);
  }
  const tokenize = !values["no-tokenize"];
  if ((values.images === undefined) !== (values.clip === undefined)) {
    throw new UsageError(
      "--images and --clip go together: CLIPScore needs both the image folder and the CLIP package",
    );
  }
  if (values["per-image"] !== undefined) await checkOutputPath(values["per-image"], "--per-image");
  const started = performance.now();

  const predictionsText = await readInputFile(predictionsPath, "--predictions");
  const referencesText = await readInputFile(referencesPath, "--references");
  if (predictionsText === undefined || referencesText === undefined) return EXIT_USAGE;

  let table: DocumentFrequencyTable | undefined;
  if (values.df !== undefined) {
    const loaded = await loadDocumentFrequencyTable(values.df, tokenize);
    if (typeof loaded === "number") return loaded;
    table = loaded;
  }

  let input: ReturnType<typeof parseEvaluationFiles>;
  try {
    input = parseEvaluationFiles(predictionsText, referencesText);
  } catch (error) {
    if (error instanceof ValidationError) {
      printProblems("evaluate", error.problems);
      return EXIT_DATA_ERROR;
    }
    throw error;
  }
  for (const warning of input.warnings)
    console.error(`warning: ${warning.path}: ${warning.message}`);

  const progress = new StageProgress(input.corpus.imageIds.length);
  const report = scoreCaptions(input.corpus, {
    metrics,
    tokenize,
    ...(table === undefined ? {} : { documentFrequency: table }),
    onProgress: ({ stage, completed, total }) => progress.update(stage, completed, total),
  });
  const seconds = (performance.now() - started) / 1000;
  progress.finish(
    `edgecap evaluate: scored ${plural(report.imageCount, "image")} (${report.metrics.join(", ")}) in ${seconds.toFixed(2)} s`,
  );
  for (const warning of report.warnings) console.error(`warning: ${warning.message}`);

  if (values.images !== undefined && values.clip !== undefined) {
    try {
      const clip = await scoreImagesWithClip({
        clipDir: values.clip,
        imagesDir: values.images,
        imageIds: input.corpus.imageIds,
        captions: input.corpus.candidates,
        references: input.corpus.references,
        prefix: values["clip-prefix"],
      });
      addClipScores(report, clip);
      console.error(
        `edgecap evaluate: CLIPScore with ${clip.model.id}, prefix ${JSON.stringify(clip.prefix)}`,
      );
    } catch (error) {
      if (error instanceof ModelPackageError || error instanceof MissingImageFilesError) {
        console.error(`edgecap evaluate: ${(error as Error).message}`);
        return EXIT_DATA_ERROR;
      }
      throw error;
    }
  }

  if (values["per-image"] !== undefined) {
    const path = values["per-image"];
    const text = path.toLowerCase().endsWith(".csv") ? perImageCsv(report) : perImageJson(report);
    await writeOutputFile(path, text, "--per-image");
  }

  if (format === "json") {
    console.log(JSON.stringify(summaryJson(report, input.format), null, 2));
  } else {
    console.log(summaryTable(report, input.format));
  }
  return EXIT_OK;
}

/** Runs node:util parseArgs, turning its errors (unknown option, missing value) into usage errors. */
export function parseOptions<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError((error as Error).message);
    }
    throw error;
  }
}

function requireOption(value: string | undefined, name: string): string {
  if (value === undefined || value === "") throw new UsageError(`missing ${name} FILE`);
  return value;
}

function parseMetrics(list: string | undefined): MetricName[] {
  if (list === undefined) return [...METRIC_NAMES];
  const names = list
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const unknown = names.filter((name) => !(METRIC_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(`--metrics must list some of ${METRIC_NAMES.join(",")}, got "${list}"`);
  }
  return names as MetricName[];
}

/**
 * Reads a UTF-8 text file. Prints why it failed and returns undefined when it cannot be read, so
 * the command exits with the usage status.
 */
export async function readInputFile(path: string, option: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    let reason = String(error);
    if (code === "ENOENT") reason = "file not found";
    if (code === "EISDIR") reason = "is a directory";
    console.error(`edgecap: cannot read ${option} "${path}": ${reason}`);
    return undefined;
  }
}

/** Prints validation problems to stderr, the first PRINTED_PROBLEMS of them in full. */
export function printProblems(commandName: string, problems: readonly ValidationProblem[]): void {
  const lines = [
    `edgecap ${commandName}: invalid input (${problems.length} problem${problems.length === 1 ? "" : "s"}):`,
  ];
  for (const problem of problems.slice(0, PRINTED_PROBLEMS)) {
    lines.push(`  ${problem.path}: ${problem.message}`);
  }
  if (problems.length > PRINTED_PROBLEMS) {
    lines.push(`  ... and ${problems.length - PRINTED_PROBLEMS} more`);
  }
  console.error(lines.join("\n"));
}

async function loadDocumentFrequencyTable(
  path: string,
  tokenize: boolean,
): Promise<DocumentFrequencyTable | number> {
  const text = await readInputFile(path, "--df");
  if (text === undefined) return EXIT_USAGE;

  let table: DocumentFrequencyTable;
  try {
    table = DocumentFrequencyTable.fromJson(JSON.parse(text));
  } catch (error) {
    if (!(error instanceof SyntaxError || error instanceof TypeError)) throw error;
    console.error(`edgecap evaluate: --df "${path}": ${error.message}`);
    return EXIT_DATA_ERROR;
  }

  const tokenization = tokenize ? "ptb" : "none";
  if (table.tokenization !== tokenization) {
    console.error(
      `edgecap evaluate: --df "${path}" was built with tokenization "${table.tokenization}", but this run uses "${tokenization}"; ` +
        `${table.tokenization === "none" ? "add" : "drop"} --no-tokenize or rebuild the table`,
    );
    return EXIT_USAGE;
  }
  return table;
}

/** Per-stage progress bar on a terminal; otherwise only the final summary line. */
class StageProgress {
  private readonly interactive: boolean;

  constructor(imageCount: number) {
    this.interactive = process.stderr.isTTY === true && imageCount >= PROGRESS_MIN_IMAGES;
  }

  update(stage: string, completed: number, total: number): void {
    if (!this.interactive) return;
    const width = 30;
    const filled = total === 0 ? width : Math.round((completed / total) * width);
    const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
    process.stderr.write(`\r\x1b[K[${bar}] ${completed}/${total} ${stage}`);
  }

  finish(summary: string): void {
    if (this.interactive) process.stderr.write("\r\x1b[K");
    console.error(summary);
  }
}

/** CLIPScore columns added next to the caption metrics when --images and --clip are given. */
interface ClipColumns {
  clip_score?: number;
  ref_clip_score?: number;
}

function addClipScores(report: ScoreReport, clip: ClipScoringOutput): void {
  const corpus = report.corpus as MetricScores & ClipColumns;
  corpus.clip_score = clip.clipScore;
  if (clip.refClipScore !== undefined) corpus.ref_clip_score = clip.refClipScore;
  for (const [i, row] of report.perImage.entries()) {
    const pair = clip.pairs[i];
    const columns = row as MetricScores & ClipColumns;
    if (pair === undefined) continue;
    columns.clip_score = pair.clipScore;
    if (pair.refClipScore !== undefined) columns.ref_clip_score = pair.refClipScore;
  }
}

/** Flattens scores into named columns: bleu_1..bleu_4, rouge_l, cider_d, then CLIPScore if present. */
function namedScores(scores: MetricScores & ClipColumns): Record<string, number> {
  const named: Record<string, number> = {};
  scores.bleu?.forEach((value, k) => {
    named[`bleu_${k + 1}`] = value;
  });
  if (scores.rouge_l !== undefined) named.rouge_l = scores.rouge_l;
  if (scores.cider_d !== undefined) named.cider_d = scores.cider_d;
  if (scores.clip_score !== undefined) named.clip_score = scores.clip_score;
  if (scores.ref_clip_score !== undefined) named.ref_clip_score = scores.ref_clip_score;
  return named;
}

function summaryJson(report: ScoreReport, format: string): unknown {
  return {
    imageCount: report.imageCount,
    predictionsFormat: format,
    tokenization: report.tokenization,
    documentFrequency: report.documentFrequency,
    scores: namedScores(report.corpus),
    ...(report.bleuTotals === undefined ? {} : { bleuTotals: report.bleuTotals }),
    warnings: report.warnings,
  };
}

const DISPLAY_NAMES: Record<string, string> = {
  bleu_1: "BLEU-1",
  bleu_2: "BLEU-2",
  bleu_3: "BLEU-3",
  bleu_4: "BLEU-4",
  rouge_l: "ROUGE-L",
  cider_d: "CIDEr-D",
  clip_score: "CLIPScore",
  ref_clip_score: "RefCLIP-S",
};

function summaryTable(report: ScoreReport, format: string): string {
  const lines = ["metric    score"];
  for (const [name, value] of Object.entries(namedScores(report.corpus))) {
    lines.push(`${(DISPLAY_NAMES[name] ?? name).padEnd(10)}${value.toFixed(6)}`);
  }
  const idf =
    report.documentFrequency.source === "table"
      ? `a table of ${plural(report.documentFrequency.imageCount, "image")}`
      : "the evaluated references";
  const tokenization = report.tokenization === "ptb" ? "PTB tokenization" : "no tokenization";
  lines.push(
    "",
    `${plural(report.imageCount, "image")}, ${format} predictions, ${tokenization}, CIDEr-D document frequencies from ${idf}.`,
  );
  return lines.join("\n");
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function perImageJson(report: ScoreReport): string {
  const rows = report.perImage.map((row) => ({ image: row.imageId, ...namedScores(row) }));
  return `${JSON.stringify(rows, null, 1)}\n`;
}

function perImageCsv(report: ScoreReport): string {
  const columns = Object.keys(namedScores(report.corpus));
  const lines = [["image", ...columns].join(",")];
  for (const row of report.perImage) {
    const named = namedScores(row);
    lines.push(
      [csvField(row.imageId), ...columns.map((column) => String(named[column]))].join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Quotes a CSV field when it contains a comma, quote or line break (RFC 4180). */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
