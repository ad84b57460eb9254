// ROUGE-L as pycocoevalcap's Rouge computes it (rouge/rouge.py, salaniz/pycocoevalcap ad63453):
// the longest common subsequence of tokens against each reference, precision and recall each
// maximised over the references on their own (so they may come from different references), and
// F-measure with beta = 1.2. Tokens come from `split(" ")`, which keeps empty strings, so "" is one
// empty token and double spaces add empty tokens.

import { numpyMean } from "./numpy-mean.ts";
import { growInt32, Vocabulary } from "./vocabulary.ts";

const BETA = 1.2;

export interface RougeLResult {
  /** `np.mean` of the per-image scores. */
  corpus: number;
  perImage: Float64Array;
}

/** Computes ROUGE-L per image and for the corpus. `references[i]` belong to `candidates[i]`. */
export function scoreRougeL(
  candidates: readonly string[],
  references: readonly (readonly string[])[],
): RougeLResult {
  const vocabulary = new Vocabulary();
  const perImage = new Float64Array(candidates.length);
  let candidateTokens = new Int32Array(64);
  let referenceTokens = new Int32Array(64);
  let row = new Int32Array(65);

  for (let image = 0; image < candidates.length; image++) {
    const candidateLength = internSpaceTokens(
      candidates[image] as string,
      vocabulary,
      candidateTokens,
    );
    if (candidateLength > candidateTokens.length) {
      candidateTokens = growInt32(candidateTokens, candidateLength);
      internSpaceTokens(candidates[image] as string, vocabulary, candidateTokens);
    }
    if (row.length <= candidateLength) row = growInt32(row, candidateLength + 1);

    let precisionMax = Number.NEGATIVE_INFINITY;
    let recallMax = Number.NEGATIVE_INFINITY;
    for (const reference of references[image] as readonly string[]) {
      const referenceLength = internSpaceTokens(reference, vocabulary, referenceTokens);
      if (referenceLength > referenceTokens.length) {
        referenceTokens = growInt32(referenceTokens, referenceLength);
        internSpaceTokens(reference, vocabulary, referenceTokens);
      }

      const lcs = longestCommonSubsequence(
        candidateTokens,
        candidateLength,
        referenceTokens,
        referenceLength,
        row,
      );
      const precision = lcs / candidateLength;
      const recall = lcs / referenceLength;
      if (precision > precisionMax) precisionMax = precision;
      if (recall > recallMax) recallMax = recall;
    }

    // Both maxima stay -Infinity for an image without references, so the score is 0. The reference
    // code fails an assertion there instead, and input validation rejects such images earlier.
    const betaSquared = BETA * BETA;
    perImage[image] =
      precisionMax > 0 && recallMax > 0
        ? ((1 + betaSquared) * precisionMax * recallMax) / (recallMax + betaSquared * precisionMax)
        : 0;
  }

  return { corpus: numpyMean(perImage), perImage };
}

/**
 * Writes the ids of `text.split(" ")` into `out` when they fit and returns the token count. When
 * the count exceeds the length of `out`, the caller grows it and calls again.
 */
function internSpaceTokens(text: string, vocabulary: Vocabulary, out: Int32Array): number {
  let count = 0;
  let start = 0;
  for (;;) {
    const end = text.indexOf(" ", start);
    if (count < out.length)
      out[count] = vocabulary.internRange(text, start, end < 0 ? text.length : end);
    count++;
    if (end < 0) return count;
    start = end + 1;
  }
}

/** Length of the longest common subsequence of a[0..aLength) and b[0..bLength), in O(aLength) memory. */
function longestCommonSubsequence(
  a: Int32Array,
  aLength: number,
  b: Int32Array,
  bLength: number,
  row: Int32Array,
): number {
  // row[i] is the LCS length of a[0..i) and the prefix of b processed so far.
  row.fill(0, 0, aLength + 1);
  for (let j = 0; j < bLength; j++) {
    const token = b[j];
    let diagonal = 0;
    for (let i = 1; i <= aLength; i++) {
      const above = row[i] as number;
      if (a[i - 1] === token) {
        row[i] = diagonal + 1;
      } else {
        const left = row[i - 1] as number;
        if (left > above) row[i] = left;
      }
      diagonal = above;
    }
  }
  return row[aLength] as number;
}
