// A precomputed CIDEr-D document-frequency table holds the n-gram document frequencies and the
// image count of a fixed reference corpus, for example COCO val2017. A single image, or any small
// set, is then scored with the idf weights of that corpus instead of its own. Without such a table
// a one-image corpus scores CIDEr-D 0 by construction.

import { countDocumentFrequency } from "./cider-d.ts";
import { type CookedCorpus, cookCorpus, MAX_ORDER } from "./cook.ts";
import { NgramTable, ROOT } from "./ngram-table.ts";
import { Vocabulary } from "./vocabulary.ts";

export const DOCUMENT_FREQUENCY_FORMAT = "edgecap-cider-df";
export const DOCUMENT_FREQUENCY_VERSION = 1;

/** Tokenization of the reference captions before counting, which scoring must repeat. */
export type TokenizationName = "ptb" | "none";

/** The JSON form of a table. N-gram keys are their tokens joined by single spaces. */
export interface DocumentFrequencyJson {
  format: typeof DOCUMENT_FREQUENCY_FORMAT;
  version: number;
  tokenization: TokenizationName;
  maxOrder: number;
  imageCount: number;
  /** Free-form description of the reference corpus, for example its file name. */
  source?: string;
  documentFrequency: Record<string, number>;
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
    const vocabulary = new Vocabulary();
    const table = new NgramTable(Object.keys(json.documentFrequency).length);
    let frequency = new Float64Array(1024);

    for (const [key, count] of Object.entries(json.documentFrequency)) {
      const words = key.split(" ");
      if (words.length > MAX_ORDER || words.some((word) => word === "")) {
        throw new TypeError(
          `invalid document-frequency table: n-gram key ${JSON.stringify(key)} must be 1 to ${MAX_ORDER} tokens separated by single spaces`,
        );
      }
      if (!Number.isInteger(count) || count < 1 || count > json.imageCount) {
        throw new TypeError(
          `invalid document-frequency table: count of ${JSON.stringify(key)} is ${count}; expected an integer from 1 to imageCount (${json.imageCount})`,
        );
      }

      let id = ROOT;
      for (const word of words) id = table.intern(id, vocabulary.intern(word));
      if (id >= frequency.length) {
        const grown = new Float64Array(Math.max(table.size, frequency.length * 2));
        grown.set(frequency);
        frequency = grown;
      }
      frequency[id] = count;
    }
    if (frequency.length < table.size) {
      const grown = new Float64Array(table.size);
      grown.set(frequency);
      frequency = grown;
    }

    return new DocumentFrequencyTable({
      imageCount: json.imageCount,
      tokenization: json.tokenization,
      source: json.source,
      vocabulary,
      table,
      frequency,
    });
  }

  toJson(): DocumentFrequencyJson {
    // A null-prototype object, so that an n-gram such as "__proto__" becomes an ordinary key.
    const documentFrequency: Record<string, number> = Object.create(null);
    const keys: string[] = new Array(this.table.size);
    for (let id = 0; id < this.table.size; id++) {
      const word = this.vocabulary.words[this.table.lastToken[id] as number] as string;
      const prefix = this.table.prefix[id] as number;
      const key = prefix === ROOT ? word : `${keys[prefix]} ${word}`;
      keys[id] = key;
      const count = this.frequency[id] as number;
      if (count > 0) documentFrequency[key] = count;
    }

    const json: DocumentFrequencyJson = {
      format: DOCUMENT_FREQUENCY_FORMAT,
      version: DOCUMENT_FREQUENCY_VERSION,
      tokenization: this.tokenization,
      maxOrder: MAX_ORDER,
      imageCount: this.imageCount,
      documentFrequency,
    };
    if (this.source !== undefined) json.source = this.source;
    return json;
  }

  /** log of the table's image count: CIDEr-D's `ref_len`. */
  get logImageCount(): number {
    return Math.log(this.imageCount);
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
  const frequencies = json.documentFrequency;
  if (typeof frequencies !== "object" || frequencies === null || Array.isArray(frequencies)) {
    throw invalid(`"documentFrequency" must be an object mapping n-grams to image counts`);
  }
  return json as DocumentFrequencyJson;
}
