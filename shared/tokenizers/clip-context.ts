// CLIP's fixed-length text input (`clip.tokenize` in openai/CLIP clip/clip.py).
import { type CaptionTokenizer, loadTokenizer, type TokenizerFamily } from "./tokenizer.ts";

export const CLIP_START_OF_TEXT_ID = 49406;
export const CLIP_END_OF_TEXT_ID = 49407;
/** Padding id. It is also the id of "!", so a padded row decodes with trailing "!". */
export const CLIP_PAD_ID = 0;
export const CLIP_CONTEXT_LENGTH = 77;

export interface ClipEncodeOptions {
  /** Length of the returned row in tokens; 77 for every released CLIP model. */
  contextLength?: number;
  /** Cut long text to fit, keeping the end token last; false throws instead. */
  truncate?: boolean;
}

export interface ClipTokenizer extends CaptionTokenizer {
  /**
   * Encodes text as one CLIP input row: start token, text, end token, zero padding. The text
   * embedding is read at the end token, so truncation overwrites the last kept id with it.
   */
  encodeClip(text: string, options?: ClipEncodeOptions): Int32Array;
}

class DelegatingClipTokenizer implements ClipTokenizer {
  readonly family: TokenizerFamily;
  readonly vocabSize: number;
  readonly specialIds: ReadonlyMap<string, number>;
  private readonly inner: CaptionTokenizer;

  constructor(inner: CaptionTokenizer) {
    this.inner = inner;
    this.family = inner.family;
    this.vocabSize = inner.vocabSize;
    this.specialIds = inner.specialIds;
  }

  encode(text: string): Int32Array {
    return this.inner.encode(text);
  }

  decode(ids: ArrayLike<number>): string {
    return this.inner.decode(ids);
  }

  displayTokens(ids: ArrayLike<number>): string[] {
    return this.inner.displayTokens(ids);
  }

  tokenString(id: number): string {
    return this.inner.tokenString(id);
  }

  encodeClip(text: string, options: ClipEncodeOptions = {}): Int32Array {
    const contextLength = options.contextLength ?? CLIP_CONTEXT_LENGTH;
    const truncate = options.truncate ?? true;
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new RangeError(
        `contextLength must be an integer of at least 2 (start and end tokens), got ${contextLength}`,
      );
    }

    const content = this.inner.encode(text);
    const tokenCount = content.length + 2;
    if (tokenCount > contextLength && !truncate) {
      throw new RangeError(
        `text has ${tokenCount} tokens with start and end, more than the context length ${contextLength}; pass truncate: true or shorten the text`,
      );
    }

    // clip.tokenize cuts [start, ...text, end] to contextLength ids and then overwrites the last
    // one with the end token, so at most contextLength - 2 text ids remain.
    const textIdCount = Math.min(content.length, contextLength - 2);
    const row = new Int32Array(contextLength).fill(CLIP_PAD_ID);
    row[0] = CLIP_START_OF_TEXT_ID;
    row.set(content.subarray(0, textIdCount), 1);
    row[textIdCount + 1] = CLIP_END_OF_TEXT_ID;
    return row;
  }
}

/** Loads a CLIP tokenizer.json and adds encodeClip. */
export function loadClipTokenizer(json: unknown): ClipTokenizer {
  const tokenizer = loadTokenizer(json);
  if (tokenizer.family !== "clip") {
    throw new TypeError(`expected a CLIP tokenizer.json, got the ${tokenizer.family} family`);
  }
  if (
    tokenizer.specialIds.get("<|startoftext|>") !== CLIP_START_OF_TEXT_ID ||
    tokenizer.specialIds.get("<|endoftext|>") !== CLIP_END_OF_TEXT_ID
  ) {
    throw new TypeError(
      `CLIP tokenizer.json must map <|startoftext|> to ${CLIP_START_OF_TEXT_ID} and <|endoftext|> to ${CLIP_END_OF_TEXT_ID}`,
    );
  }
  return new DelegatingClipTokenizer(tokenizer);
}
