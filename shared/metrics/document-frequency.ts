// A precomputed CIDEr-D document-frequency table holds the n-gram document frequencies and the
// image count of a fixed reference corpus, for example COCO val2017. A single image, or any small
// set, is then scored with the idf weights of that corpus instead of its own. Without such a table
// a one-image corpus scores CIDEr-D 0 by construction.

import { countDocumentFrequency } from "./cider-d.ts";
import { type CookedCorpus, cookCorpus, MAX_ORDER } from "./cook.ts";
import { logOfCount } from "./log-count.ts";
import { NgramTable, ROOT } from "./ngram-table.ts";
import { Vocabulary } from "./vocabulary.ts";

export const DOCUMENT_FREQUENCY_FORMAT = "edgecap-cider-df";
export const DOCUMENT_FREQUENCY_VERSION = 1;

/** Tokenization of the reference captions before counting, which scoring must repeat. */
export type TokenizationName = "ptb" | "none";

/**
 * The JSON form of a table. N-gram i is the triple ngrams[3i..3i+2]: the index of its prefix
 * n-gram in this list (-1 for a unigram, otherwise an earlier index), the index of its last token
 * in `tokens`, and its document frequency. Integer triples load an order of magnitude faster than
 * an object keyed by n-gram strings, which matters for a cold edge worker.
 */
export interface DocumentFrequencyJson {
  format: typeof DOCUMENT_FREQUENCY_FORMAT;
  version: number;
  tokenization: TokenizationName;
  maxOrder: number;
  imageCount: number;
  /** Free-form description of the reference corpus, for example its file name. */
  source?: string;
  tokens: string[];
  ngrams: number[];
}

export class DocumentFrequencyTable {
  readonly imageCount: number;
  readonly tokenization: TokenizationName;
  readonly source: string | undefined;
  readonly vocabulary: Vocabulary;
  readonly table: NgramTable;
  /** frequency[id]: number of images whose references contain n-gram `id` of `table`. */
  readonly frequency: Float64Array;

  constructor(options: {
    imageCount: number;
    tokenization: TokenizationName;
    source?: string | undefined;
    vocabulary: Vocabulary;
    table: NgramTable;
    frequency: Float64Array;
  }) {
    this.imageCount = options.imageCount;
    this.tokenization = options.tokenization;
    this.source = options.source;
    this.vocabulary = options.vocabulary;
    this.table = options.table;
    this.frequency = options.frequency;
  }

  /**
   * Builds a table from already tokenized references, one list per image. Empty lists count as
   * images, as they do in the reference code's log(number of images).
   */
  static fromReferences(
    references: readonly (readonly string[])[],
    tokenization: TokenizationName,
    source?: string,
  ): DocumentFrequencyTable {
    const cooked = cookCorpus(
      references.map(() => ""),
      references,
    );
    return new DocumentFrequencyTable({
      imageCount: references.length,
      tokenization,
      source,
      vocabulary: cooked.vocabulary,
      table: cooked.table,
      frequency: countDocumentFrequency(cooked),
    });
  }

  /** Reads the JSON form; throws a TypeError that names the first invalid field. */
  static fromJson(value: unknown): DocumentFrequencyTable {
    const json = checkJson(value);
    const invalid = (message: string): TypeError =>
      new TypeError(`invalid document-frequency table: ${message}; rebuild it with \`edgecap df\``);

    const vocabulary = new Vocabulary(json.tokens.length);
    json.tokens.forEach((token, index) => {
      if (typeof token !== "string" || token === "" || vocabulary.intern(token) !== index) {
        throw invalid(
          `tokens[${index}] is ${JSON.stringify(token)}; expected distinct non-empty strings`,
        );
      }
    });

    const { ngrams, imageCount } = json;
    const count = ngrams.length / 3;
    const table = new NgramTable(count);
    const frequency = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const prefix = ngrams[3 * i] as number;
      const token = ngrams[3 * i + 1] as number;
      const documents = ngrams[3 * i + 2] as number;
      if (!Number.isInteger(prefix) || prefix < ROOT || prefix >= i) {
        throw invalid(
          `n-gram ${i} has prefix ${prefix}; expected -1 or the index of an earlier n-gram`,
        );
      }
      if (!Number.isInteger(token) || token < 0 || token >= vocabulary.size) {
        throw invalid(`n-gram ${i} has token ${token}; expected an index into "tokens"`);
      }
      if (!Number.isInteger(documents) || documents < 1 || documents > imageCount) {
        throw invalid(
          `n-gram ${i} has document frequency ${documents}; expected an integer from 1 to imageCount (${imageCount})`,
        );
      }

      const id = table.intern(prefix, token);
      if (id !== i) throw invalid(`n-gram ${i} repeats n-gram ${id}`);
      if ((table.order[id] as number) > MAX_ORDER) {
        throw invalid(`n-gram ${i} has order ${table.order[id]}; expected at most ${MAX_ORDER}`);
      }
      frequency[id] = documents;
    }

    return new DocumentFrequencyTable({
      imageCount,
      tokenization: json.tokenization,
      source: json.source,
      vocabulary,
      table,
      frequency,
    });
  }

  toJson(): DocumentFrequencyJson {
    // Every n-gram of the table comes from a reference, so its frequency is at least 1, and ids
    // are assigned prefix first, so each prefix index is lower than the n-gram's own.
    const ngrams: number[] = new Array(this.table.size * 3);
    for (let id = 0; id < this.table.size; id++) {
      ngrams[3 * id] = this.table.prefix[id] as number;
      ngrams[3 * id + 1] = this.table.lastToken[id] as number;
      ngrams[3 * id + 2] = this.frequency[id] as number;
    }

    const json: DocumentFrequencyJson = {
      format: DOCUMENT_FREQUENCY_FORMAT,
      version: DOCUMENT_FREQUENCY_VERSION,
      tokenization: this.tokenization,
      maxOrder: MAX_ORDER,
      imageCount: this.imageCount,
      tokens: [...this.vocabulary.words],
      ngrams,
    };
    if (this.source !== undefined) json.source = this.source;
    return json;
  }

  /** Number of n-grams in the table. */
  get ngramCount(): number {
    return this.table.size;
  }

  /** Returns the document frequency of an n-gram given as tokens joined by single spaces (0 when absent). */
  documentFrequencyOf(ngram: string): number {
    let id = ROOT;
    for (const word of ngram.split(" ")) {
      const token = this.vocabulary.find(word);
      if (token < 0) return 0;
      id = this.table.find(id, token);
      if (id < 0) return 0;
    }
    return this.frequency[id] ?? 0;
  }

  /** log of the table's image count: CIDEr-D's `ref_len`. */
  get logImageCount(): number {
    return logOfCount(this.imageCount);
  }

  /**
   * Looks up the frequency of every n-gram id of `corpus` in this table (0 when absent). The
   * table is only read, so one table can serve many corpora.
   */
  frequenciesFor(corpus: CookedCorpus): Float64Array {
    const { table, vocabulary } = corpus;
    const result = new Float64Array(table.size);

    const tokenInTable = new Int32Array(vocabulary.size);
    for (let token = 0; token < vocabulary.size; token++) {
      tokenInTable[token] = this.vocabulary.find(vocabulary.words[token] as string);
    }

    // A prefix always gets its id before the longer n-gram, so ids in increasing order see every
    // prefix resolved first.
    const idInTable = new Int32Array(table.size);
    for (let id = 0; id < table.size; id++) {
      const prefix = table.prefix[id] as number;
      const token = tokenInTable[table.lastToken[id] as number] as number;
      const prefixInTable = prefix === ROOT ? ROOT : (idInTable[prefix] as number);
      const found =
        token < 0 || (prefix !== ROOT && prefixInTable < 0)
          ? -1
          : this.table.find(prefixInTable, token);
      idInTable[id] = found;
      result[id] = found < 0 ? 0 : (this.frequency[found] as number);
    }
    return result;
  }
}

function checkJson(value: unknown): DocumentFrequencyJson {
  const invalid = (message: string): TypeError =>
    new TypeError(`invalid document-frequency table: ${message}; rebuild it with \`edgecap df\``);

  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("expected a JSON object");
  }
  const json = value as Partial<DocumentFrequencyJson>;
  if (json.format !== DOCUMENT_FREQUENCY_FORMAT) {
    throw invalid(
      `"format" is ${JSON.stringify(json.format)}, expected "${DOCUMENT_FREQUENCY_FORMAT}"`,
    );
  }
  if (json.version !== DOCUMENT_FREQUENCY_VERSION) {
    throw invalid(
      `"version" is ${JSON.stringify(json.version)}, expected ${DOCUMENT_FREQUENCY_VERSION}`,
    );
  }
  if (json.tokenization !== "ptb" && json.tokenization !== "none") {
    throw invalid(
      `"tokenization" is ${JSON.stringify(json.tokenization)}, expected "ptb" or "none"`,
    );
  }
  if (json.maxOrder !== MAX_ORDER) {
    throw invalid(`"maxOrder" is ${JSON.stringify(json.maxOrder)}, expected ${MAX_ORDER}`);
  }
  if (
    typeof json.imageCount !== "number" ||
    !Number.isInteger(json.imageCount) ||
    json.imageCount < 1
  ) {
    throw invalid(
      `"imageCount" is ${JSON.stringify(json.imageCount)}, expected a positive integer`,
    );
  }
  if (json.source !== undefined && typeof json.source !== "string") {
    throw invalid(`"source" is ${JSON.stringify(json.source)}, expected a string`);
  }
  if (!Array.isArray(json.tokens)) {
    throw invalid(`"tokens" must be an array of strings`);
  }
  if (!Array.isArray(json.ngrams) || json.ngrams.length % 3 !== 0) {
    throw invalid(
      `"ngrams" must be an array of (prefix, token, document frequency) integer triples`,
    );
  }
  return json as DocumentFrequencyJson;
}
