// A slow, literal transcription of transformers' group beam search (batch size 1) over a logits
// table, used to check that the batched implementation keeps the same semantics. Every beam runs
// from the start as transformers does: all beams but the first of each group begin at -1e9, every
// candidate of the group is sorted, and the top 2 x group size are processed in rank order.
// One intended difference is kept: a finished group contributes no tokens to the Hamming penalty.
import { type LogitsTable, logSoftmaxOf } from "./toy-models.ts";

export interface ReferenceOptions {
  numBeams: number;
  numBeamGroups: number;
  diversityPenalty: number;
  lengthPenalty: number;
  earlyStopping: boolean | "never";
  maxNewTokens: number;
  eosTokenId: number;
  numReturnSequences: number;
}

export interface ReferenceHypothesis {
  tokens: number[];
  score: number;
  finishReason: "eos" | "length";
}

class ReferenceHypotheses {
  beams: { score: number; tokens: number[]; finishReason: "eos" | "length" }[] = [];
  worstScore = 1e9;
  readonly numBeams: number;
  readonly options: ReferenceOptions;

  constructor(numBeams: number, options: ReferenceOptions) {
    this.numBeams = numBeams;
    this.options = options;
  }

  add(
    tokens: number[],
    sumLogprobs: number,
    generatedLength: number,
    finishReason: "eos" | "length",
  ): void {
    const score = sumLogprobs / generatedLength ** this.options.lengthPenalty;
    if (this.beams.length < this.numBeams || score > this.worstScore) {
      this.beams.push({ score, tokens, finishReason });
      if (this.beams.length > this.numBeams) {
        const sorted = this.beams
          .map((beam, index) => [beam.score, index] as const)
          .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        this.beams.splice((sorted[0] as readonly [number, number])[1], 1);
        this.worstScore = (sorted[1] as readonly [number, number])[0];
      } else {
        this.worstScore = Math.min(score, this.worstScore);
      }
    }
  }

  isDone(bestSumLogprobs: number, curLen: number): boolean {
    if (this.beams.length < this.numBeams) return false;
    if (this.options.earlyStopping === true) return true;
    if (this.options.earlyStopping === false) {
      return this.worstScore >= bestSumLogprobs / curLen ** this.options.lengthPenalty;
    }
    if (this.options.lengthPenalty > 0) {
      return (
        this.worstScore >= bestSumLogprobs / this.options.maxNewTokens ** this.options.lengthPenalty
      );
    }
    return this.worstScore >= bestSumLogprobs / curLen ** this.options.lengthPenalty;
  }
}

export function referenceBeamSearch(
  table: LogitsTable,
  options: ReferenceOptions,
): ReferenceHypothesis[] {
  const { numBeams, numBeamGroups } = options;
  const groupSize = numBeams / numBeamGroups;
  let beams: number[][] = Array.from({ length: numBeams }, () => []);
  let beamScores: number[] = Array.from({ length: numBeams }, (_, i) =>
    i % groupSize === 0 ? 0 : -1e9,
  );
  const hypotheses = Array.from(
    { length: numBeamGroups },
    () => new ReferenceHypotheses(groupSize, options),
  );
  const done = new Array<boolean>(numBeamGroups).fill(false);

  for (let step = 0; step < options.maxNewTokens; step++) {
    const curLen = step + 1;
    const logprobs = beams.map((prefix) => logSoftmaxOf(table(prefix)));
    const currentTokens: number[] = [];
    const nextBeams: number[][] = beams.map((beam) => [...beam]);
    const nextScores = [...beamScores];

    for (let group = 0; group < numBeamGroups; group++) {
      if (done[group]) continue;
      const start = group * groupSize;
      const candidates: { score: number; row: number; token: number; flat: number }[] = [];
      for (let row = start; row < start + groupSize; row++) {
        (logprobs[row] as number[]).forEach((logprob, token) => {
          const penalty =
            options.diversityPenalty * currentTokens.filter((t) => t === token).length;
          const score = logprob - penalty + (beamScores[row] as number);
          candidates.push({ score, row, token, flat: (row - start) * 1e6 + token });
        });
      }
      candidates.sort((a, b) => b.score - a.score || a.flat - b.flat);
      const top = candidates.slice(0, 2 * groupSize);

      const chosen: { row: number; token: number; score: number }[] = [];
      for (let rank = 0; rank < top.length; rank++) {
        const candidate = top[rank] as (typeof top)[number];
        if (candidate.token === options.eosTokenId) {
          if (rank >= groupSize) continue;
          (hypotheses[group] as ReferenceHypotheses).add(
            [...(beams[candidate.row] as number[])],
            candidate.score,
            curLen,
            "eos",
          );
        } else {
          chosen.push(candidate);
        }
        if (chosen.length === groupSize) break;
      }
      done[group] = (hypotheses[group] as ReferenceHypotheses).isDone(
        (top[0] as (typeof top)[number]).score,
        curLen,
      );

      chosen.forEach((candidate, i) => {
        nextBeams[start + i] = [...(beams[candidate.row] as number[]), candidate.token];
        nextScores[start + i] = candidate.score;
        currentTokens.push(candidate.token);
      });
    }
    beams = nextBeams;
    beamScores = nextScores;

    if (done.every(Boolean)) break;
    if (curLen === options.maxNewTokens) {
      for (let group = 0; group < numBeamGroups; group++) {
        if (done[group]) continue;
        for (let row = group * groupSize; row < (group + 1) * groupSize; row++) {
          (hypotheses[group] as ReferenceHypotheses).add(
            beams[row] as number[],
            beamScores[row] as number,
            options.maxNewTokens,
            "length",
          );
        }
      }
    }
  }

  const pool = hypotheses.flatMap((group) => group.beams);
  pool.sort((a, b) => a.score - b.score);
  pool.reverse();
  return pool
    .slice(0, options.numReturnSequences)
    .map(({ tokens, score, finishReason }) => ({ tokens, score, finishReason }));
}
