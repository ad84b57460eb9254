// The n-best list of finished hypotheses of one beam group, with the scoring and stopping rule of
// the BeamHypotheses class in transformers' src/transformers/generation/beam_search.py (the version
// that measures lengths from the decoder prompt, which here is the begin token).

export interface ScoredHypothesis<T> {
  /** sumLogprobs / generatedLength ** lengthPenalty. */
  score: number;
  payload: T;
}

export class BeamHypotheses<T> {
  readonly capacity: number;
  readonly lengthPenalty: number;
  readonly earlyStopping: boolean | "never";
  readonly maxNewTokens: number;
  private readonly entries: ScoredHypothesis<T>[] = [];
  // transformers starts from 1e9 and only lowers it while the list is not full.
  private worstScore = 1e9;

  constructor(
    capacity: number,
    lengthPenalty: number,
    earlyStopping: boolean | "never",
    maxNewTokens: number,
  ) {
    this.capacity = capacity;
    this.lengthPenalty = lengthPenalty;
    this.earlyStopping = earlyStopping;
    this.maxNewTokens = maxNewTokens;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Hypotheses in insertion order (minus those pushed out by better ones). */
  get hypotheses(): readonly ScoredHypothesis<T>[] {
    return this.entries;
  }

  /**
   * Adds a finished hypothesis unless the list is full and the hypothesis scores no better than the
   * worst one. `generatedLength` counts the generated tokens including the end token, if any.
   */
  add(sumLogprobs: number, generatedLength: number, payload: T): void {
    const score = sumLogprobs / generatedLength ** this.lengthPenalty;
    if (this.entries.length >= this.capacity && score <= this.worstScore) return;

    this.entries.push({ score, payload });
    if (this.entries.length <= this.capacity) {
      this.worstScore = Math.min(score, this.worstScore);
      return;
    }

    // Over capacity: drop the lowest score (the first one on ties) and take the next lowest as the worst.
    let worstIndex = 0;
    for (let i = 1; i < this.entries.length; i++) {
      if (
        (this.entries[i] as ScoredHypothesis<T>).score <
        (this.entries[worstIndex] as ScoredHypothesis<T>).score
      ) {
        worstIndex = i;
      }
    }
    this.entries.splice(worstIndex, 1);
    this.worstScore = Math.min(...this.entries.map((entry) => entry.score));
  }

  /**
   * Decides whether this group can stop, given the best running sum of log-probabilities among
   * this step's candidates and the generated length they reach (end token included).
   * - early_stopping true: stop as soon as `capacity` hypotheses are finished.
   * - false: stop when the worst finished score is at least bestSum / generatedLength ** lengthPenalty,
   *   the best score a running beam would get by ending now. With lengthPenalty > 0 a longer
   *   continuation can still score higher, so this is a heuristic.
   * - "never": the bound is exact. With lengthPenalty > 0 the best a beam can reach is bestSum
   *   divided by maxNewTokens ** lengthPenalty (sums only decrease, the divisor grows up to that);
   *   otherwise the current length gives the bound.
   */
  isDone(bestSumLogprobs: number, generatedLength: number): boolean {
    if (this.entries.length < this.capacity) return false;
    if (this.earlyStopping === true) return true;

    const boundLength =
      this.earlyStopping === "never" && this.lengthPenalty > 0
        ? this.maxNewTokens
        : generatedLength;
    const highestAttainableScore = bestSumLogprobs / boundLength ** this.lengthPenalty;
    return this.worstScore >= highestAttainableScore;
  }
}
