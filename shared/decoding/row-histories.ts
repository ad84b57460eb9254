// Per-row histories of the running beams or samples: tokens, their log-probabilities and attention
// rows. Every advance reorders them with the same parent indices that reorder the KV cache, so each
// row always carries its own path.

export interface PathSnapshot {
  tokenIds: Int32Array;
  tokenLogprobs: Float64Array;
  attention: Float32Array[] | null;
}

export class RowHistories {
  /** Maximum tokens per row (max_new_tokens). */
  readonly capacity: number;
  /** Tokens each row holds; every running row has the same length. */
  length = 0;
  rowCount = 1;
  private tokens: Int32Array;
  private logprobs: Float64Array;
  private attention: Float32Array[][] | null = null;

  /** Starts with one empty row, the begin token's row of step 0. */
  constructor(capacity: number) {
    this.capacity = capacity;
    this.tokens = new Int32Array(capacity);
    this.logprobs = new Float64Array(capacity);
  }

  /** The tokens row `row` has generated so far, as a view valid until the next advance. */
  generated(row: number): Int32Array {
    const start = row * this.capacity;
    return this.tokens.subarray(start, start + this.length);
  }

  /** Returns the sum of row `row`'s token log-probabilities. */
  logprobSum(row: number): number {
    let sum = 0;
    const start = row * this.capacity;
    for (let i = 0; i < this.length; i++) sum += this.logprobs[start + i] as number;
    return sum;
  }

  /**
   * Replaces the rows by new ones: new row i copies the history of row `parents[i]` and appends
   * `tokens[i]`, `logprobs[i]` and, when given, `attentionRows[i]`.
   */
  advance(
    parents: ArrayLike<number>,
    tokens: ArrayLike<number>,
    logprobs: ArrayLike<number>,
    attentionRows: Float32Array[] | null,
  ): void {
    if (this.length >= this.capacity) {
      throw new RangeError(`row histories are full at ${this.capacity} tokens (max_new_tokens).`);
    }
    const rowCount = parents.length;
    const capacity = this.capacity;
    const nextTokens = new Int32Array(rowCount * capacity);
    const nextLogprobs = new Float64Array(rowCount * capacity);
    const nextAttention: Float32Array[][] | null = attentionRows === null ? null : [];

    for (let row = 0; row < rowCount; row++) {
      const parent = parents[row] as number;
      const from = parent * capacity;
      const to = row * capacity;
      nextTokens.set(this.tokens.subarray(from, from + this.length), to);
      nextLogprobs.set(this.logprobs.subarray(from, from + this.length), to);
      nextTokens[to + this.length] = tokens[row] as number;
      nextLogprobs[to + this.length] = logprobs[row] as number;

      if (nextAttention !== null && attentionRows !== null) {
        const parentPath = this.attention?.[parent] ?? [];
        nextAttention.push([...parentPath, attentionRows[row] as Float32Array]);
      }
    }

    this.tokens = nextTokens;
    this.logprobs = nextLogprobs;
    this.attention = nextAttention;
    this.rowCount = rowCount;
    this.length++;
  }

  /**
   * Copies row `row`'s path out, for a finished hypothesis. `withAttention` is whether the model
   * returns attention, because an empty history cannot tell.
   */
  snapshot(row: number, withAttention: boolean): PathSnapshot {
    const start = row * this.capacity;
    return {
      tokenIds: this.tokens.slice(start, start + this.length),
      tokenLogprobs: this.logprobs.slice(start, start + this.length),
      attention: withAttention ? [...(this.attention?.[row] ?? [])] : null,
    };
  }
}
