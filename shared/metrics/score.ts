// Scores candidate captions against references with BLEU-1..4, ROUGE-L and CIDEr-D, reproducing
// the COCO caption evaluation (pycocoevalcap's COCOEvalCap): PTB tokenization of references and
// candidates in two separate batches, then each scorer on the tokenized strings.

import { type BleuStatistics, scoreBleu } from "./bleu.ts";
import { countDocumentFrequency, scoreCiderD } from "./cider-d.ts";
import { type CookedCorpus, cookCorpus } from "./cook.ts";
import type { DocumentFrequencyTable, TokenizationName } from "./document-frequency.ts";
import { logOfCount } from "./log-count.ts";
import { ptbTokenizeBatch } from "./ptb-tokenizer.ts";
import { scoreRougeL } from "./rouge-l.ts";
import { isPythonWhitespace } from "./vocabulary.ts";

export type MetricName = "bleu" | "rouge_l" | "cider_d";
export const METRIC_NAMES: readonly MetricName[] = ["bleu", "rouge_l", "cider_d"];

/** One candidate and its references per image, in evaluation order. */
export interface CaptionCorpus {
  imageIds: readonly string[];
  candidates: readonly string[];
  references: readonly (readonly string[])[];
}

export type ScoreStage = "tokenize" | MetricName;

export interface ScoreOptions {
  /** Metrics to compute; all three when absent. */
  metrics?: readonly MetricName[];
  /** Run the PTB tokenizer first (default true). Pass false for captions that are already tokens joined by spaces. */
  tokenize?: boolean;
  /** CIDEr-D idf from this table instead of from the evaluated references. */
  documentFrequency?: DocumentFrequencyTable;
  /** Called before each stage starts and once more with `completed === total` at the end. */
  onProgress?: (progress: { stage: ScoreStage | "done"; completed: number; total: number }) => void;
}

export interface MetricScores {
  /** BLEU-1..4. */
  bleu?: number[];
  rouge_l?: number;
  cider_d?: number;
}

export interface ImageScores extends MetricScores {
  imageId: string;
}

export interface ScoreWarning {
  code: "one_image_corpus" | "empty_candidates" | "empty_references" | "all_references_empty";
  message: string;
}

export interface ScoreReport {
  imageCount: number;
  metrics: MetricName[];
  tokenization: TokenizationName;
  /** Source of CIDEr-D's document frequencies. */
  documentFrequency:
    | { source: "evaluated-references"; imageCount: number }
    | { source: "table"; imageCount: number; description?: string };
  /** Corpus scores: pooled counts for BLEU, `np.mean` of the per-image scores for the others. */
  corpus: MetricScores;
  perImage: ImageScores[];
  /** Pooled BLEU lengths and counts, when BLEU was computed. */
  bleuTotals?: BleuStatistics;
  warnings: ScoreWarning[];
}

/** How many ids a warning lists before it only counts. */
const LISTED_IDS = 10;

/** Tokenizes (unless `tokenize` is false) and scores a corpus. Throws a TypeError for a malformed corpus. */
export function scoreCaptions(corpus: CaptionCorpus, options: ScoreOptions = {}): ScoreReport {
  const metrics = normalizeMetrics(options.metrics);
  const tokenization: TokenizationName = options.tokenize === false ? "none" : "ptb";
  const table = options.documentFrequency;
  checkCorpus(corpus);
  if (table !== undefined && table.tokenization !== tokenization) {
    throw new TypeError(
      `the document-frequency table was built with tokenization "${table.tokenization}" but the captions use "${tokenization}"; ` +
        `score with the same setting or rebuild the table`,
    );
  }

  const stages: ScoreStage[] = tokenization === "ptb" ? ["tokenize", ...metrics] : [...metrics];
  let completed = 0;
  const reportStage = (stage: ScoreStage | "done"): void => {
    options.onProgress?.({ stage, completed, total: stages.length });
    completed++;
  };

  let candidates = corpus.candidates;
  let references = corpus.references;
  if (tokenization === "ptb") {
    reportStage("tokenize");
    ({ candidates, references } = tokenizeCorpus(corpus));
  }

  const imageCount = corpus.imageIds.length;
  const perImage: ImageScores[] = corpus.imageIds.map((imageId) => ({ imageId }));
  const scores: MetricScores = {};
  let bleuTotals: BleuStatistics | undefined;
  let cooked: CookedCorpus | undefined;
  const cook = (): CookedCorpus => {
    cooked ??= cookCorpus(candidates, references);
    return cooked;
  };

  for (const metric of metrics) {
    reportStage(metric);
    if (metric === "bleu") {
      const bleu = scoreBleu(cook());
      scores.bleu = bleu.corpus;
      bleuTotals = bleu.totals;
      perImage.forEach((row, i) => {
        row.bleu = bleu.perImage.map((values) => values[i] as number);
      });
    } else if (metric === "rouge_l") {
      const rouge = scoreRougeL(candidates, references);
      scores.rouge_l = rouge.corpus;
      perImage.forEach((row, i) => {
        row.rouge_l = rouge.perImage[i] as number;
      });
    } else {
      const cookedCorpus = cook();
      const cider =
        table === undefined
          ? scoreCiderD(cookedCorpus, countDocumentFrequency(cookedCorpus), logOfCount(imageCount))
          : scoreCiderD(cookedCorpus, table.frequenciesFor(cookedCorpus), table.logImageCount);
      scores.cider_d = cider.corpus;
      perImage.forEach((row, i) => {
        row.cider_d = cider.perImage[i] as number;
      });
    }
  }
  reportStage("done");

  const report: ScoreReport = {
    imageCount,
    metrics,
    tokenization,
    documentFrequency:
      table === undefined
        ? { source: "evaluated-references", imageCount }
        : {
            source: "table",
            imageCount: table.imageCount,
            ...(table.source === undefined ? {} : { description: table.source }),
          },
    corpus: scores,
    perImage,
    warnings: collectWarnings(corpus.imageIds, candidates, references, metrics, table),
  };
  if (bleuTotals !== undefined) report.bleuTotals = bleuTotals;
  return report;
}

/**
 * Tokenizes all references in one batch and all candidates in another, in image order, as
 * pycocoevalcap runs its tokenizer once on the references and once on the results.
 */
function tokenizeCorpus(corpus: CaptionCorpus): {
  candidates: string[];
  references: string[][];
} {
  const flatReferences = corpus.references.flat();
  const tokenizedReferences = ptbTokenizeBatch(flatReferences);
  const references: string[][] = [];
  let next = 0;
  for (const list of corpus.references) {
    references.push(tokenizedReferences.slice(next, next + list.length));
    next += list.length;
  }
  return { candidates: ptbTokenizeBatch(corpus.candidates), references };
}

function normalizeMetrics(metrics: readonly MetricName[] | undefined): MetricName[] {
  if (metrics === undefined) return [...METRIC_NAMES];
  for (const metric of metrics) {
    if (!METRIC_NAMES.includes(metric)) {
      throw new TypeError(
        `unknown metric "${metric}"; expected some of ${METRIC_NAMES.join(", ")}`,
      );
    }
  }
  if (metrics.length === 0) {
    throw new TypeError(`no metric requested; expected some of ${METRIC_NAMES.join(", ")}`);
  }
  // Canonical order, without duplicates.
  return METRIC_NAMES.filter((metric) => metrics.includes(metric));
}

function checkCorpus(corpus: CaptionCorpus): void {
  const { imageIds, candidates, references } = corpus;
  if (candidates.length !== imageIds.length || references.length !== imageIds.length) {
    throw new TypeError(
      `corpus has ${imageIds.length} image ids, ${candidates.length} candidates and ${references.length} reference lists; expected one of each per image`,
    );
  }
  for (let i = 0; i < imageIds.length; i++) {
    if ((references[i] as readonly string[]).length === 0) {
      throw new TypeError(
        `image "${imageIds[i]}" has no reference captions; every scorer needs at least one`,
      );
    }
  }
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (!isPythonWhitespace(text.charCodeAt(i))) return false;
  }
  return true;
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, LISTED_IDS).join(", ");
  return ids.length > LISTED_IDS ? `${shown}, ... (${ids.length} in all)` : shown;
}

function collectWarnings(
  imageIds: readonly string[],
  candidates: readonly string[],
  references: readonly (readonly string[])[],
  metrics: readonly MetricName[],
  table: DocumentFrequencyTable | undefined,
): ScoreWarning[] {
  const warnings: ScoreWarning[] = [];

  if (metrics.includes("cider_d") && table === undefined && imageIds.length === 1) {
    warnings.push({
      code: "one_image_corpus",
      message:
        "CIDEr-D is 0 for a one-image corpus by construction: document frequencies come from the evaluated references, " +
        "so every n-gram has idf log(1) - log(1) = 0. Score more images together or pass a document-frequency table.",
    });
  }

  const emptyCandidates = imageIds.filter((_, i) => isBlank(candidates[i] as string));
  if (emptyCandidates.length > 0) {
    warnings.push({
      code: "empty_candidates",
      message:
        `${emptyCandidates.length} candidate caption(s) have no tokens after tokenization (images ${listIds(emptyCandidates)}). ` +
        "They score as the reference code scores them: 0 on every metric, except ROUGE-L 1 against an empty reference.",
    });
  }

  const emptyReferenceImages = imageIds.filter((_, i) =>
    (references[i] as readonly string[]).some(isBlank),
  );
  if (emptyReferenceImages.length > 0) {
    warnings.push({
      code: "empty_references",
      message:
        `${emptyReferenceImages.length} image(s) have reference captions without tokens after tokenization (images ${listIds(emptyReferenceImages)}). ` +
        "Each such reference still counts when CIDEr-D divides by the number of references.",
    });
  }

  const allEmpty = references.every((list) => list.every(isBlank));
  if (metrics.includes("cider_d") && table === undefined && allEmpty) {
    warnings.push({
      code: "all_references_empty",
      message:
        "every reference caption is empty, so no n-gram has a document frequency; pycocoevalcap fails on this input, and edgecap returns CIDEr-D 0.",
    });
  }

  return warnings;
}
