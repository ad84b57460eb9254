// CIDEr-D as pycocoevalcap's CiderScorer computes it (cider/cider_scorer.py, salaniz/pycocoevalcap
// ad63453, n = 4, sigma = 6): tf-idf vectors per n-gram order with raw term counts, the
// candidate's weights clipped at the reference's, cosine per order, a Gaussian penalty on the
// difference in "length", the mean over the 4 orders and over the references, times 10.
// The float operations follow the reference's order, so the scores agree to the last bit or two.

import { type CookedCorpus, MAX_ORDER } from "./cook.ts";
import { logOfCount } from "./log-count.ts";
import { numpyMean } from "./numpy-mean.ts";

const SIGMA = 6;

export interface CiderDResult {
  /** `np.mean` of the per-image scores. */
  corpus: number;
  perImage: Float64Array;
}

/**
 * Counts, for every n-gram id of the corpus, the images whose references contain it. Candidates do
 * not count.
 */
export function countDocumentFrequency(corpus: CookedCorpus): Float64Array {
  const { references, referenceStart, table, imageCount } = corpus;
  const frequency = new Float64Array(table.size);
  const lastImage = new Int32Array(table.size).fill(-1);

  for (let image = 0; image < imageCount; image++) {
    for (let r = referenceStart[image] as number; r < (referenceStart[image + 1] as number); r++) {
      for (let e = references.start[r] as number; e < (references.start[r + 1] as number); e++) {
        const id = references.ngram[e] as number;
        if (lastImage[id] !== image) {
          lastImage[id] = image;
          frequency[id] = (frequency[id] as number) + 1;
        }
      }
    }
  }
  return frequency;
}

/**
 * Computes CIDEr-D per image and for the corpus.
 *
 * `documentFrequency[id]` is the number of images of the document-frequency corpus whose references
 * contain n-gram `id`, and `logImageCount` is the log of that corpus's image count. Without a
 * precomputed table, that corpus is the evaluated one (countDocumentFrequency and
 * log(imageCount)), so a one-image corpus weighs every n-gram log 1 - log 1 = 0 and scores 0.
 */
export function scoreCiderD(
  corpus: CookedCorpus,
  documentFrequency: Float64Array,
  logImageCount: number,
): CiderDResult {
  const { candidates, references, referenceStart, table, imageCount } = corpus;
  const order = table.order;
  const perImage = new Float64Array(imageCount);

  // idf[id] = log N - log(max(1, df)), filled on first use. An n-gram absent from every reference
  // gets df 1, so its weight is log N: it lowers the cosine and never matches.
  const idf = new Float64Array(table.size).fill(Number.NaN);
  const idfOf = (id: number): number => {
    let value = idf[id] as number;
    if (Number.isNaN(value)) {
      value = logImageCount - logOfCount(Math.max(1, documentFrequency[id] ?? 0));
      idf[id] = value;
    }
    return value;
  };

  // The reference's weights, looked up by id: valid when weightOf[id] === current reference.
  const referenceWeight = new Float64Array(table.size);
  const weightOf = new Int32Array(table.size).fill(-1);

  let candidateWeight = new Float64Array(256);
  const candidateNorm = new Float64Array(MAX_ORDER);
  const referenceNorm = new Float64Array(MAX_ORDER);
  const imageScore = new Float64Array(MAX_ORDER);
  const value = new Float64Array(MAX_ORDER);
  const penalty = new LengthPenalty(SIGMA);

  for (let image = 0; image < imageCount; image++) {
    // Candidate vector. "Length" is the number of bigrams, as in the reference (`if n == 1`).
    const candidateStart = candidates.start[image] as number;
    const candidateEnd = candidates.start[image + 1] as number;
    if (candidateEnd - candidateStart > candidateWeight.length) {
      candidateWeight = new Float64Array((candidateEnd - candidateStart) * 2);
    }
    candidateNorm.fill(0);
    let candidateLength = 0;
    for (let e = candidateStart; e < candidateEnd; e++) {
      const id = candidates.ngram[e] as number;
      const termFrequency = candidates.termFrequency[e] as number;
      const weight = termFrequency * idfOf(id);
      const n = (order[id] as number) - 1;
      candidateWeight[e - candidateStart] = weight;
      candidateNorm[n] = (candidateNorm[n] as number) + weight * weight;
      if (n === 1) candidateLength += termFrequency;
    }
    for (let n = 0; n < MAX_ORDER; n++) candidateNorm[n] = Math.sqrt(candidateNorm[n] as number);

    imageScore.fill(0);
    const firstReference = referenceStart[image] as number;
    const endReference = referenceStart[image + 1] as number;
    for (let r = firstReference; r < endReference; r++) {
      // Reference vector.
      referenceNorm.fill(0);
      let referenceLength = 0;
      for (let e = references.start[r] as number; e < (references.start[r + 1] as number); e++) {
        const id = references.ngram[e] as number;
        const termFrequency = references.termFrequency[e] as number;
        const weight = termFrequency * idfOf(id);
        const n = (order[id] as number) - 1;
        referenceWeight[id] = weight;
        weightOf[id] = r;
        referenceNorm[n] = (referenceNorm[n] as number) + weight * weight;
        if (n === 1) referenceLength += termFrequency;
      }
      for (let n = 0; n < MAX_ORDER; n++) referenceNorm[n] = Math.sqrt(referenceNorm[n] as number);

      // Clipped dot product per order, in the candidate's n-gram order. N-grams missing from the
      // reference add min(w, 0) * 0 = 0 in the reference code, so skipping them changes nothing.
      value.fill(0);
      for (let e = candidateStart; e < candidateEnd; e++) {
        const id = candidates.ngram[e] as number;
        if (weightOf[id] !== r) continue;
        const weight = referenceWeight[id] as number;
        const n = (order[id] as number) - 1;
        value[n] =
          (value[n] as number) +
          Math.min(candidateWeight[e - candidateStart] as number, weight) * weight;
      }

      const factor = penalty.of(candidateLength - referenceLength);
      for (let n = 0; n < MAX_ORDER; n++) {
        let similarity = value[n] as number;
        const hypothesisNorm = candidateNorm[n] as number;
        const norm = referenceNorm[n] as number;
        if (hypothesisNorm !== 0 && norm !== 0) similarity /= hypothesisNorm * norm;
        similarity *= factor;
        imageScore[n] = (imageScore[n] as number) + similarity;
      }
    }

    // np.mean over the 4 orders (4 < 8 values, so numpy adds them in order), then the mean over the
    // references. Empty references still count in that division.
    let score = (imageScore[0] as number) + (imageScore[1] as number);
    score += imageScore[2] as number;
    score += imageScore[3] as number;
    score /= MAX_ORDER;
    score /= endReference - firstReference;
    score *= 10.0;
    perImage[image] = score;
  }

  return { corpus: numpyMean(perImage), perImage };
}

/** exp(-delta² / (2 sigma²)) computed as `np.e ** x` like the reference, cached per |delta|. */
class LengthPenalty {
  private readonly twoSigmaSquared: number;
  private readonly cache: Float64Array;

  constructor(sigma: number) {
    this.twoSigmaSquared = 2 * sigma ** 2;
    this.cache = new Float64Array(256).fill(Number.NaN);
  }

  of(delta: number): number {
    const magnitude = Math.abs(delta);
    if (magnitude < this.cache.length) {
      const cached = this.cache[magnitude] as number;
      if (!Number.isNaN(cached)) return cached;
    }
    const factor = Math.E ** (-(magnitude * magnitude) / this.twoSigmaSquared);
    if (magnitude < this.cache.length) this.cache[magnitude] = factor;
    return factor;
  }
}
