// CLIPScore and RefCLIPScore from precomputed CLIP embeddings (Hessel et al., 2021, "CLIPScore:
// A Reference-free Evaluation Metric for Image Captioning").
//
// The definitions follow the authors' code, jmhessel/clipscore clipscore.py:
// - get_clip_score: CLIP-S = 2.5 * max(cos(image, caption), 0) per pair; the corpus score is
//   the mean over pairs.
// - get_refonlyclipscore: the reference term is the max over the image's references of
//   cos(caption, reference), without the 2.5 weight.
// - RefCLIP-S = 2ab / (a + b), the harmonic mean of CLIP-S (a) and the reference term (b).
// The code does not clip the reference term at 0; this module clips it, as the paper's
// definition max(max_r cos(c, r), 0) does, which only matters when every reference points away
// from the caption.
import { cosineSimilarity } from "./cosine.ts";

/** Weight w of CLIP-S, the default of get_clip_score in clipscore.py. */
export const CLIP_SCORE_WEIGHT = 2.5;

/** Prompt prefix of Hessel et al.; clipscore.py puts it before candidates and references. */
export const CLIP_SCORE_PAPER_PREFIX = "A photo depicts ";

/** Returns CLIP-S of one image and caption: 2.5 × max(cos, 0). */
export function clipScore(
  imageEmbedding: ArrayLike<number>,
  captionEmbedding: ArrayLike<number>,
): number {
  return CLIP_SCORE_WEIGHT * Math.max(cosineSimilarity(imageEmbedding, captionEmbedding), 0);
}

/** Returns the reference term of RefCLIP-S: max over references of cos(caption, reference), clipped at 0. */
export function referenceSimilarity(
  captionEmbedding: ArrayLike<number>,
  referenceEmbeddings: readonly ArrayLike<number>[],
): number {
  if (referenceEmbeddings.length === 0) {
    throw new RangeError("RefCLIPScore needs at least one reference per image, got none");
  }
  let best = Number.NEGATIVE_INFINITY;
  for (const reference of referenceEmbeddings) {
    best = Math.max(best, cosineSimilarity(captionEmbedding, reference));
  }
  return Math.max(best, 0);
}

/** Returns RefCLIP-S, the harmonic mean of CLIP-S and the reference term; 0 when both are 0. */
export function refClipScore(clipScoreValue: number, referenceTerm: number): number {
  const sum = clipScoreValue + referenceTerm;
  return sum === 0 ? 0 : (2 * clipScoreValue * referenceTerm) / sum;
}

export interface ClipScoreInput {
  /** One image embedding per pair. */
  images: readonly ArrayLike<number>[];
  /** One caption embedding per pair, in the order of `images`. */
  captions: readonly ArrayLike<number>[];
  /** Reference-caption embeddings of each pair's image; enables RefCLIPScore. */
  references?: readonly (readonly ArrayLike<number>[])[];
  /** Prefix that was put before every caption and reference before embedding; "" for none. */
  prefix: string;
}

export interface PairScore {
  clipScore: number;
  /** Present when references were given. */
  refClipScore?: number;
}

export interface ClipScoreResult {
  /** Mean CLIP-S over pairs. */
  clipScore: number;
  /** Mean RefCLIP-S over pairs, when references were given. */
  refClipScore?: number;
  pairs: PairScore[];
  /** The prefix the embeddings were computed with, so reports can state which protocol they follow. */
  prefix: string;
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) {
    sum += value;
  }
  return sum / values.length;
}

/** Scores image–caption pairs from embeddings and averages over the corpus. */
export function scoreEmbeddings(input: ClipScoreInput): ClipScoreResult {
  const { images, captions, references, prefix } = input;
  if (images.length === 0) {
    throw new RangeError("CLIPScore needs at least one image-caption pair, got none");
  }
  if (captions.length !== images.length) {
    throw new RangeError(
      `got ${images.length} image embeddings but ${captions.length} caption embeddings; pass one caption per image`,
    );
  }
  if (references !== undefined && references.length !== images.length) {
    throw new RangeError(
      `got ${images.length} images but reference lists for ${references.length}; pass one list per image`,
    );
  }

  const pairs: PairScore[] = images.map((image, index) => {
    const caption = captions[index] as ArrayLike<number>;
    const pairClipScore = clipScore(image, caption);
    if (references === undefined) {
      return { clipScore: pairClipScore };
    }
    const referenceTerm = referenceSimilarity(
      caption,
      references[index] as readonly ArrayLike<number>[],
    );
    return { clipScore: pairClipScore, refClipScore: refClipScore(pairClipScore, referenceTerm) };
  });

  const result: ClipScoreResult = {
    clipScore: mean(pairs.map((pair) => pair.clipScore)),
    pairs,
    prefix,
  };
  if (references !== undefined) {
    result.refClipScore = mean(pairs.map((pair) => pair.refClipScore as number));
  }
  return result;
}
