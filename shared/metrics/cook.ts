// Counts the n-grams (orders 1..4) of whitespace-split sentences into flat typed arrays: the
// "precook" step that BLEU and CIDEr-D share in the COCO caption evaluation code (pycocoevalcap).

import { NgramTable, ROOT } from "./ngram-table.ts";
import { growInt32, internWhitespaceTokens, Vocabulary } from "./vocabulary.ts";

/** Highest n-gram order of BLEU-4 and CIDEr-D. */
export const MAX_ORDER = 4;

/**
 * Distinct n-grams per sentence with their term frequencies. Sentence s owns the entries
 * start[s] .. start[s+1]-1. Entries are in the order in which pycocoevalcap's `precook` first
 * inserts them into its dict: by order, then by position of the first occurrence. Keeping that
 * order keeps the order of the floating-point sums of CIDEr-D.
 */
export interface CookedSentences {
  count: number;
  /** Number of tokens of each sentence (`len(s.split())`). */
  wordCount: Int32Array;
  start: Int32Array;
  ngram: Int32Array;
  termFrequency: Int32Array;
}

/** Candidates (one per image) and references (grouped by image) cooked into one n-gram table. */
export interface CookedCorpus {
  vocabulary: Vocabulary;
  table: NgramTable;
  imageCount: number;
  candidates: CookedSentences;
  references: CookedSentences;
  /** The references of image i are sentences referenceStart[i] .. referenceStart[i+1]-1. */
  referenceStart: Int32Array;
}

/** Cooks sentences into one shared vocabulary and n-gram table. */
export class SentenceCooker {
  readonly vocabulary: Vocabulary;
  readonly table: NgramTable;

  private tokens = new Int32Array(64);
  private level = new Int32Array(64);
  private readonly tokenCount = { length: 0 };
  // seen[2 id] is the serial number of the last sentence that contained n-gram id, and seen[2 id + 1]
  // its entry index there, so duplicate n-grams are found without clearing anything per sentence.
  private seen = new Int32Array(2048).fill(-1);
  private serial = 0;

  constructor(vocabulary = new Vocabulary(), table = new NgramTable(1 << 14)) {
    this.vocabulary = vocabulary;
    this.table = table;
  }

  cook(texts: readonly string[]): CookedSentences {
    const wordCount = new Int32Array(texts.length);
    const start = new Int32Array(texts.length + 1);
    // A sentence of L tokens has at least 2L - 1 characters and at most 4L n-grams, so the
    // character count is an estimate that rarely needs growing.
    let characters = 0;
    for (const text of texts) characters += text.length;
    let ngram = new Int32Array(Math.max(64, characters));
    let termFrequency = new Int32Array(ngram.length);
    let used = 0;

    for (let s = 0; s < texts.length; s++) {
      start[s] = used;
      this.tokens = internWhitespaceTokens(
        texts[s] as string,
        this.vocabulary,
        this.tokens,
        this.tokenCount,
      );
      const length = this.tokenCount.length;
      wordCount[s] = length;

      // A sentence of L tokens has at most 4L n-grams of orders 1..4.
      if (used + MAX_ORDER * length > ngram.length) {
        ngram = growInt32(ngram, used + MAX_ORDER * length);
        termFrequency = growInt32(termFrequency, ngram.length);
      }
      if (this.level.length < length) this.level = growInt32(this.level, length);

      const serial = this.serial++;
      const tokens = this.tokens;
      const level = this.level;
      const table = this.table;

      // Order k: level[i] is the id of tokens i..i+k-1, built from the order k-1 id in place.
      for (let k = 1; k <= MAX_ORDER && k <= length; k++) {
        for (let i = 0; i + k <= length; i++) {
          const prefix = k === 1 ? ROOT : (level[i] as number);
          const id = table.intern(prefix, tokens[i + k - 1] as number);
          level[i] = id;

          if (2 * id >= this.seen.length) this.growSeen(2 * table.size);
          const seen = this.seen;
          if (seen[2 * id] === serial) {
            const entry = seen[2 * id + 1] as number;
            termFrequency[entry] = (termFrequency[entry] as number) + 1;
          } else {
            seen[2 * id] = serial;
            seen[2 * id + 1] = used;
            ngram[used] = id;
            termFrequency[used] = 1;
            used++;
          }
        }
      }
    }
    start[texts.length] = used;

    return { count: texts.length, wordCount, start, ngram, termFrequency };
  }

  private growSeen(minLength: number): void {
    const seen = new Int32Array(Math.max(minLength, this.seen.length * 2)).fill(-1);
    seen.set(this.seen);
    this.seen = seen;
  }
}

/**
 * Cooks a corpus. `references[i]` are the references of the image whose candidate is
 * `candidates[i]`. A cooker may be passed to reuse its vocabulary and n-gram table.
 */
export function cookCorpus(
  candidates: readonly string[],
  references: readonly (readonly string[])[],
  cooker = new SentenceCooker(),
): CookedCorpus {
  if (candidates.length !== references.length) {
    throw new RangeError(
      `cookCorpus: got ${candidates.length} candidates but ${references.length} reference lists; pass one list per candidate`,
    );
  }

  const referenceStart = new Int32Array(references.length + 1);
  const flatReferences: string[] = [];
  for (let i = 0; i < references.length; i++) {
    referenceStart[i] = flatReferences.length;
    for (const reference of references[i] as readonly string[]) flatReferences.push(reference);
  }
  referenceStart[references.length] = flatReferences.length;

  // Presize the n-gram table to skip most rehashing: one distinct n-gram per 4 characters fits
  // COCO captions (about 300,000 n-grams in 1.3 million characters of val2017).
  if (cooker.table.size === 0) {
    let characters = 0;
    for (const text of flatReferences) characters += text.length;
    for (const text of candidates) characters += text.length;
    cooker = new SentenceCooker(cooker.vocabulary, new NgramTable(characters >> 2));
  }

  const referenceSentences = cooker.cook(flatReferences);
  const candidateSentences = cooker.cook(candidates);

  return {
    vocabulary: cooker.vocabulary,
    table: cooker.table,
    imageCount: candidates.length,
    candidates: candidateSentences,
    references: referenceSentences,
    referenceStart,
  };
}
