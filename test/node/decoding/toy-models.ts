// Toy language models for the decoding tests: deterministic logits as a function of the generated
// prefix, wrapped as a StepModel that keeps one prefix per row the way a KV cache would.
import type { StepInput, StepModel, StepOutput } from "../../../shared/decoding/index.ts";

export type LogitsTable = (prefix: readonly number[]) => ArrayLike<number>;

/**
 * A StepModel over a logits table. Each row's "cache" is its list of generated tokens, gathered with
 * beamIndices exactly as a KV cache would be, so a wrong reorder shows up as wrong logits.
 * With `withAttention`, row r at step s returns the attention row [s, r].
 */
export class ToyStepModel implements StepModel {
  readonly vocabSize: number;
  readonly table: LogitsTable;
  readonly withAttention: boolean;
  /** Copies of every step input, in call order. */
  readonly inputs: StepInput[] = [];
  /** prefixes[step][row]: the generated tokens row `row` had seen when step `step` ran. */
  readonly prefixes: number[][][] = [];
  private rows: number[][] = [];

  constructor(vocabSize: number, table: LogitsTable, withAttention = false) {
    this.vocabSize = vocabSize;
    this.table = table;
    this.withAttention = withAttention;
  }

  async step(input: StepInput): Promise<StepOutput> {
    const { tokenIds, beamIndices, stepIndex } = input;
    this.inputs.push({
      tokenIds: tokenIds.slice(),
      beamIndices: beamIndices === null ? null : beamIndices.slice(),
      stepIndex,
    });

    if (stepIndex === 0) {
      if (beamIndices !== null) throw new Error("step 0 must not pass beamIndices");
      this.rows = Array.from(tokenIds, () => []);
    } else {
      const previous = this.rows;
      const gathered =
        beamIndices === null
          ? previous.map((row) => [...row])
          : Array.from(beamIndices, (i) => [...(previous[i] ?? [])]);
      if (gathered.length !== tokenIds.length) {
        throw new Error(
          `step ${stepIndex}: ${tokenIds.length} tokens for ${gathered.length} cached rows`,
        );
      }
      gathered.forEach((row, i) => {
        row.push(tokenIds[i] as number);
      });
      this.rows = gathered;
    }
    this.prefixes.push(this.rows.map((row) => [...row]));

    const logits = new Float32Array(tokenIds.length * this.vocabSize);
    this.rows.forEach((prefix, row) => {
      logits.set(this.table(prefix), row * this.vocabSize);
    });
    if (!this.withAttention) return { logits };

    const attention = new Float32Array(tokenIds.length * 2);
    for (let row = 0; row < tokenIds.length; row++) {
      attention[2 * row] = stepIndex;
      attention[2 * row + 1] = row;
    }
    return { logits, attention };
  }
}

function hashPrefix(seed: number, prefix: readonly number[], token: number): number {
  let hash = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b);
  for (const value of [...prefix, -1, token]) {
    hash = Math.imul(hash ^ (value + 0x6b43a9b5), 0xc2b2ae35);
    hash ^= hash >>> 15;
  }
  hash = Math.imul(hash ^ (hash >>> 13), 0x27d4eb2d);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** Pseudo-random logits in [-spread, spread] that depend on the seed and the whole prefix. */
export function randomTable(vocabSize: number, seed: number, spread = 3): LogitsTable {
  return (prefix) => {
    const logits = new Float32Array(vocabSize);
    for (let token = 0; token < vocabSize; token++) {
      logits[token] = (hashPrefix(seed, prefix, token) / 2 ** 32 - 0.5) * 2 * spread;
    }
    return logits;
  };
}

/** Builds a table of log-probabilities from probabilities per prefix, keyed by the prefix joined with ",". */
export function probabilityTable(
  vocabSize: number,
  rows: Record<string, Record<number, number>>,
  fallback: Record<number, number>,
): LogitsTable {
  return (prefix) => {
    const probabilities = rows[prefix.join(",")] ?? fallback;
    const logits = new Float32Array(vocabSize).fill(Number.NEGATIVE_INFINITY);
    for (const [token, probability] of Object.entries(probabilities))
      logits[Number(token)] = Math.log(probability);
    return logits;
  };
}

export interface EnumeratedSequence {
  tokens: number[];
  finishReason: "eos" | "length";
  /** Sum of log-probabilities, end token included. */
  sum: number;
  /** Generated length, end token included. */
  length: number;
}

export function logSoftmaxOf(logits: ArrayLike<number>): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] as number);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] as number) - max);
  const normalizer = max + Math.log(sum);
  return Array.from(logits, (logit) => logit - normalizer);
}

/** Lists every sequence a table can produce within maxNewTokens, with its log-probability. */
export function enumerateSequences(
  table: LogitsTable,
  eosTokenId: number,
  maxNewTokens: number,
): EnumeratedSequence[] {
  const sequences: EnumeratedSequence[] = [];
  const visit = (prefix: number[], sum: number) => {
    const logprobs = logSoftmaxOf(table(prefix));
    logprobs.forEach((logprob, token) => {
      if (logprob === Number.NEGATIVE_INFINITY) return;
      const total = sum + logprob;
      if (token === eosTokenId) {
        sequences.push({
          tokens: prefix,
          finishReason: "eos",
          sum: total,
          length: prefix.length + 1,
        });
      } else if (prefix.length + 1 === maxNewTokens) {
        sequences.push({
          tokens: [...prefix, token],
          finishReason: "length",
          sum: total,
          length: maxNewTokens,
        });
      } else {
        visit([...prefix, token], total);
      }
    });
  };
  visit([], 0);
  return sequences;
}
