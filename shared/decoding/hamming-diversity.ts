// Hamming diversity of diverse beam search (Vijayakumar et al., 2016, "Diverse Beam Search"), as
// transformers' HammingDiversityLogitsProcessor applies it: when group g picks its tokens at a step,
// each token's log-probability loses diversity_penalty times the number of beams of groups 0..g-1
// that picked the same token at this step.

export class HammingDiversity {
  readonly penalty: number;
  private readonly counts: Int32Array;
  private readonly touched: number[] = [];

  constructor(vocabSize: number, penalty: number) {
    this.penalty = penalty;
    this.counts = new Int32Array(vocabSize);
  }

  /** Forgets the tokens of the previous step. */
  reset(): void {
    for (const token of this.touched) this.counts[token] = 0;
    this.touched.length = 0;
  }

  /** Counts a token picked by a running beam of an earlier group at this step. */
  record(token: number): void {
    if (this.counts[token] === 0) this.touched.push(token);
    this.counts[token] = (this.counts[token] as number) + 1;
  }

  get isEmpty(): boolean {
    return this.touched.length === 0;
  }

  /** Returns the amount to subtract from `token`'s log-probability. */
  penaltyFor(token: number): number {
    return this.penalty * (this.counts[token] as number);
  }
}
