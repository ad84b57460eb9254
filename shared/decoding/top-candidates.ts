// A fixed-size list of the best (row, token) candidates of one beam group, sorted by score,
// filled in one pass over rows x vocabulary without sorting the whole vocabulary.

export class TopCandidates {
  readonly capacity: number;
  size = 0;
  readonly scores: Float64Array;
  readonly rows: Int32Array;
  readonly tokens: Int32Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.scores = new Float64Array(capacity);
    this.rows = new Int32Array(capacity);
    this.tokens = new Int32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  /** The score a candidate must beat to enter: -Infinity while the list is not full. */
  get threshold(): number {
    return this.size < this.capacity
      ? Number.NEGATIVE_INFINITY
      : (this.scores[this.size - 1] as number);
  }

  /**
   * Inserts a candidate when it beats the threshold. Equal scores keep their offer order, so
   * offering rows and tokens in ascending order ranks ties by row, then token id.
   */
  offer(score: number, row: number, token: number): void {
    if (this.size === this.capacity && score <= (this.scores[this.size - 1] as number)) return;

    let position = this.size < this.capacity ? this.size : this.size - 1;
    while (position > 0 && (this.scores[position - 1] as number) < score) {
      this.scores[position] = this.scores[position - 1] as number;
      this.rows[position] = this.rows[position - 1] as number;
      this.tokens[position] = this.tokens[position - 1] as number;
      position--;
    }
    this.scores[position] = score;
    this.rows[position] = row;
    this.tokens[position] = token;
    if (this.size < this.capacity) this.size++;
  }
}
