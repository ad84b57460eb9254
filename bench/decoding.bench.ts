// Times the decoding module's own work per step (logits processors, log-softmax, candidate
// selection, history reordering) on a toy model with GPT-2's vocabulary of 50257 tokens.
// The toy step copies precomputed random logits, and its time is measured and subtracted, so the
// figures are the overhead that generate() adds on top of a real decoder.
// Run: npx node bench/decoding.bench.ts
import { generate, type StepInput, type StepModel } from "../shared/decoding/index.ts";

const VOCAB_SIZE = 50257;
const MAX_NEW_TOKENS = 20;
const RUNS = 9;
const POOL_SIZE = 64;

function makeLogitsPool(): Float32Array[] {
  let state = 2463534242;
  const nextUniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return Array.from({ length: POOL_SIZE }, () => {
    const logits = new Float32Array(VOCAB_SIZE);
    for (let token = 0; token < VOCAB_SIZE; token++) logits[token] = (nextUniform() - 0.5) * 20;
    return logits;
  });
}

class PooledToyModel implements StepModel {
  readonly vocabSize = VOCAB_SIZE;
  readonly pool: Float32Array[];
  stepMilliseconds = 0;

  constructor(pool: Float32Array[]) {
    this.pool = pool;
  }

  async step({ tokenIds, stepIndex }: StepInput) {
    const started = performance.now();
    const logits = new Float32Array(tokenIds.length * VOCAB_SIZE);
    for (let row = 0; row < tokenIds.length; row++) {
      const pick = ((tokenIds[row] as number) * 31 + stepIndex * 7 + row) % POOL_SIZE;
      logits.set(this.pool[pick] as Float32Array, row * VOCAB_SIZE);
    }
    this.stepMilliseconds += performance.now() - started;
    return { logits };
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const configurations = [
  { name: "greedy", options: {} },
  { name: "beam 3", options: { num_beams: 3 } },
  { name: "diverse 4x2", options: { num_beams: 4, num_beam_groups: 2, diversity_penalty: 0.5 } },
  {
    name: "beam 3 + penalties",
    options: { num_beams: 3, repetition_penalty: 1.2, no_repeat_ngram_size: 3 },
  },
  { name: "sampling top_k 50", options: { do_sample: true, seed: 1 } },
  { name: "sampling top_p 0.9", options: { do_sample: true, seed: 1, top_k: 0, top_p: 0.9 } },
];

const pool = makeLogitsPool();
console.log(
  `decoding overhead, vocab ${VOCAB_SIZE}, ${MAX_NEW_TOKENS} steps, median of ${RUNS} runs`,
);
console.log("configuration           ms/step  (total ms, toy step ms excluded)");
for (const { name, options } of configurations) {
  const perStep: number[] = [];
  const totals: number[] = [];
  for (let run = 0; run < RUNS + 1; run++) {
    const model = new PooledToyModel(pool);
    const started = performance.now();
    // No end token, so every run takes exactly MAX_NEW_TOKENS steps.
    const result = await generate(model, {
      bos_token_id: 50256,
      max_new_tokens: MAX_NEW_TOKENS,
      ...options,
    });
    const overhead = performance.now() - started - model.stepMilliseconds;
    if (run === 0) continue; // warm-up run for the JIT
    perStep.push(overhead / result.steps);
    totals.push(overhead);
  }
  console.log(
    `${name.padEnd(22)} ${median(perStep).toFixed(2).padStart(8)}  (${median(totals).toFixed(1)})`,
  );
}
