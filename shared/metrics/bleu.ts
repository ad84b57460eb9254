// BLEU-1..4 as pycocoevalcap's BleuScorer computes it with option "closest" (bleu/bleu_scorer.py,
// salaniz/pycocoevalcap ad63453). Candidate n-gram counts are clipped at their maximum count in any
// one reference. The reference length is the one closest to the candidate's, and ties go to the
// shorter one. The smoothing constants below keep a zero count from zeroing the geometric mean.

import { type CookedCorpus, MAX_ORDER } from "./cook.ts";

/** Added to each matched count. */
const TINY = 1e-15;
/** Added to each candidate count and to the reference length. */
const SMALL = 1e-9;

/** Length and n-gram counts of one image, or of the whole corpus when pooled. */
export interface BleuStatistics {
  testLength: number;
  referenceLength: number;
  /** Candidate n-grams per order 1..4: max(0, testLength - k + 1). */
  guess: number[];
  /** Clipped matches per order 1..4. */
  correct: number[];
}

export interface BleuResult {
  /** Corpus BLEU-1..4 from the pooled statistics (not the mean of the per-image values). */
  corpus: number[];
  /** perImage[k][i]: BLEU-(k+1) of image i. */
  perImage: Float64Array[];
  totals: BleuStatistics;
  /** Per image: test length, closest reference length, guess[4], correct[4]. */
  imageStatistics: Int32Array;
}

/** Number of int32 values per image in `BleuResult.imageStatistics`. */
export const BLEU_STATISTICS_STRIDE = 2 + 2 * MAX_ORDER;

/** Reads the statistics of image `index` out of `BleuResult.imageStatistics`. */
export function bleuStatisticsOf(result: BleuResult, index: number): BleuStatistics {
  const at = index * BLEU_STATISTICS_STRIDE;
  const row = result.imageStatistics;
  return {
    testLength: row[at] as number,
    referenceLength: row[at + 1] as number,
    guess: Array.from(row.subarray(at + 2, at + 2 + MAX_ORDER)),
    correct: Array.from(row.subarray(at + 2 + MAX_ORDER, at + 2 + 2 * MAX_ORDER)),
  };
}

/** Computes BLEU-1..4 per image and for the corpus. */
export function scoreBleu(corpus: CookedCorpus): BleuResult {
  const { candidates, references, referenceStart, table, imageCount } = corpus;
  const statistics = new Int32Array(imageCount * BLEU_STATISTICS_STRIDE);
  const perImage = Array.from({ length: MAX_ORDER }, () => new Float64Array(imageCount));

  // maxCount[id] is valid for the current image only when countedFor[id] === image.
  const maxCount = new Int32Array(table.size);
  const countedFor = new Int32Array(table.size).fill(-1);
  const order = table.order;

  const totals: BleuStatistics = {
    testLength: 0,
    referenceLength: 0,
    guess: [0, 0, 0, 0],
    correct: [0, 0, 0, 0],
  };
  const guess = [0, 0, 0, 0];
  const correct = [0, 0, 0, 0];

  for (let image = 0; image < imageCount; image++) {
    const testLength = candidates.wordCount[image] as number;

    // Maximum count of each n-gram over the references, and the closest reference length.
    let closestLength = -1;
    let closestDistance = Number.POSITIVE_INFINITY;
    for (let r = referenceStart[image] as number; r < (referenceStart[image + 1] as number); r++) {
      const length = references.wordCount[r] as number;
      const distance = Math.abs(length - testLength);
      if (distance < closestDistance || (distance === closestDistance && length < closestLength)) {
        closestDistance = distance;
        closestLength = length;
      }

      for (let e = references.start[r] as number; e < (references.start[r + 1] as number); e++) {
        const id = references.ngram[e] as number;
        const count = references.termFrequency[e] as number;
        if (countedFor[id] !== image) {
          countedFor[id] = image;
          maxCount[id] = count;
        } else if (count > (maxCount[id] as number)) {
          maxCount[id] = count;
        }
      }
    }
    // NOTE: an image without references has no closest length; the reference code fails on it,
    // and the input validation rejects it before scoring. Length 0 keeps this function total.
    if (closestLength < 0) closestLength = 0;

    // Clipped matches per order.
    correct.fill(0);
    for (
      let e = candidates.start[image] as number;
      e < (candidates.start[image + 1] as number);
      e++
    ) {
      const id = candidates.ngram[e] as number;
      if (countedFor[id] !== image) continue;
      const k = (order[id] as number) - 1;
      correct[k] =
        (correct[k] as number) +
        Math.min(maxCount[id] as number, candidates.termFrequency[e] as number);
    }
    for (let k = 0; k < MAX_ORDER; k++) guess[k] = Math.max(0, testLength - k);

    const at = image * BLEU_STATISTICS_STRIDE;
    statistics[at] = testLength;
    statistics[at + 1] = closestLength;
    for (let k = 0; k < MAX_ORDER; k++) {
      statistics[at + 2 + k] = guess[k] as number;
      statistics[at + 2 + MAX_ORDER + k] = correct[k] as number;
      totals.guess[k] = (totals.guess[k] as number) + (guess[k] as number);
      totals.correct[k] = (totals.correct[k] as number) + (correct[k] as number);
    }
    totals.testLength += testLength;
    totals.referenceLength += closestLength;

    const scores = bleuFromStatistics(testLength, closestLength, guess, correct);
    for (let k = 0; k < MAX_ORDER; k++) (perImage[k] as Float64Array)[image] = scores[k] as number;
  }

  const corpusScores = bleuFromStatistics(
    totals.testLength,
    totals.referenceLength,
    totals.guess,
    totals.correct,
  );
  return { corpus: corpusScores, perImage, totals, imageStatistics: statistics };
}

/**
 * Combines counts into BLEU-1..4: the geometric mean of the smoothed precisions
 * (correct + 1e-15) / (guess + 1e-9), times the brevity penalty exp(1 - 1/ratio) when
 * ratio = (testLength + 1e-15) / (referenceLength + 1e-9) is below 1. That ratio is below 1 even
 * when both lengths are equal, so a perfect match scores slightly under 1.
 */
export function bleuFromStatistics(
  testLength: number,
  referenceLength: number,
  guess: readonly number[],
  correct: readonly number[],
): number[] {
  const scores: number[] = [];
  let product = 1;
  for (let k = 0; k < MAX_ORDER; k++) {
    product *= ((correct[k] as number) + TINY) / ((guess[k] as number) + SMALL);
    scores.push(product ** (1 / (k + 1)));
  }

  const ratio = (testLength + TINY) / (referenceLength + SMALL);
  if (ratio < 1) {
    // NOTE: Math.exp is not correctly rounded, and Node's V8 and workerd's differ by 1 ulp on a
    // few inputs (3 of the 5000 COCO val2017 leave-one-out images), so per-image BLEU from the CLI
    // and from the edge service can differ in the last place. CIDEr-D avoids this with logOfCount.
    const brevityPenalty = Math.exp(1 - 1 / ratio);
    for (let k = 0; k < MAX_ORDER; k++) scores[k] = (scores[k] as number) * brevityPenalty;
  }
  return scores;
}
