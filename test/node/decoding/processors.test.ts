import { describe, expect, it } from "vitest";
import {
  findBannedNgramTokens,
  generate,
  logSoftmax,
  logSumExp,
  MinNewTokensProcessor,
  NoRepeatNgramProcessor,
  RepetitionPenaltyProcessor,
} from "../../../shared/decoding/index.ts";
import { probabilityTable, randomTable, ToyStepModel } from "./toy-models.ts";

/** Straightforward n-gram ban: compare every earlier window with the last n - 1 tokens. */
function naiveBannedTokens(history: number[], n: number): number[] {
  const banned: number[] = [];
  const prefix = history.slice(history.length - (n - 1));
  for (let start = 0; start + n - 1 < history.length; start++) {
    const window = history.slice(start, start + n - 1);
    if (window.every((token, i) => token === prefix[i]))
      banned.push(history[start + n - 1] as number);
  }
  return banned;
}

describe("RepetitionPenaltyProcessor", () => {
  it("divides positive and multiplies negative logits", () => {
    const logits = Float32Array.of(2, -2, 3, 0.5);
    new RepetitionPenaltyProcessor(2).process(logits, Int32Array.of(0, 1, 1, 0));
    // Each distinct token is penalised once (2 / 2 and -2 * 2), and tokens 2 and 3 were not generated.
    expect([...logits]).toEqual([1, -4, 3, 0.5]);
  });

  it("changes greedy choices", async () => {
    // Without a penalty the model repeats token 2. With 3, logit 2 / 3 falls below token 3's 1, and
    // then token 3's 1 / 3 falls below token 2's 2 / 3.
    const table = () => Float32Array.of(-5, -1, 2, 1);
    const plain = await generate(new ToyStepModel(4, table), {
      bos_token_id: 0,
      eos_token_id: 1,
      max_new_tokens: 3,
    });
    const penalised = await generate(new ToyStepModel(4, table), {
      bos_token_id: 0,
      eos_token_id: 1,
      max_new_tokens: 3,
      repetition_penalty: 3,
    });
    expect([...(plain.sequences[0]?.tokenIds ?? [])]).toEqual([2, 2, 2]);
    expect([...(penalised.sequences[0]?.tokenIds ?? [])]).toEqual([2, 3, 2]);
  });
});

describe("findBannedNgramTokens", () => {
  it("bans tokens that repeat a bigram", () => {
    expect(findBannedNgramTokens(Int32Array.of(5, 6, 7, 5), 2)).toEqual([6]);
    expect(findBannedNgramTokens(Int32Array.of(5, 6, 5, 7, 5), 2)).toEqual([6, 7]);
  });

  it("bans seen tokens for unigrams", () => {
    expect(findBannedNgramTokens(Int32Array.of(3, 4, 3), 1)).toEqual([3, 4, 3]);
  });

  it("bans nothing before n - 1 tokens", () => {
    expect(findBannedNgramTokens(Int32Array.of(3, 4), 4)).toEqual([]);
    expect(findBannedNgramTokens(new Int32Array(0), 2)).toEqual([]);
  });

  it("matches a naive scan on random histories", () => {
    let state = 12345;
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state >>> 16;
    };
    for (let trial = 0; trial < 2000; trial++) {
      const length = next() % 30;
      const alphabet = 1 + (next() % 4);
      const history = Array.from({ length }, () => next() % alphabet);
      const n = 1 + (next() % 5);
      expect(findBannedNgramTokens(Int32Array.from(history), n), `${history} n=${n}`).toEqual(
        naiveBannedTokens(history, n),
      );
    }
  });

  it("handles token ids near 2^31", () => {
    const big = 2 ** 31 - 1;
    expect(findBannedNgramTokens(Int32Array.of(big, 7, big - 1, 9, big, 7, big - 1), 4)).toEqual([
      9,
    ]);
  });
});

describe("NoRepeatNgramProcessor in decoding", () => {
  it("prevents repeated bigrams", async () => {
    // Token 2 is always the most likely, but with size 2 the bigram (2, 2) may occur only once.
    const table = () => Float32Array.of(-9, -3, 3, 2, 1);
    const result = await generate(new ToyStepModel(5, table), {
      bos_token_id: 0,
      eos_token_id: 1,
      max_new_tokens: 8,
      no_repeat_ngram_size: 2,
    });
    const tokens = [...(result.sequences[0]?.tokenIds ?? [])];
    const bigrams = tokens.slice(1).map((token, i) => `${tokens[i]},${token}`);
    expect(new Set(bigrams).size).toBe(bigrams.length);
    expect(tokens.slice(0, 3)).toEqual([2, 2, 3]);
  });

  it("masks banned tokens to -Infinity", () => {
    const logits = new Float32Array(6);
    new NoRepeatNgramProcessor(3).process(logits, Int32Array.of(1, 2, 3, 1, 2));
    expect(logits[3]).toBe(Number.NEGATIVE_INFINITY);
    expect([...logits].filter((value) => value === Number.NEGATIVE_INFINITY)).toHaveLength(1);
  });
});

describe("min_new_tokens", () => {
  it("masks end tokens until reached", () => {
    const processor = new MinNewTokensProcessor(2, Int32Array.of(1, 4));
    const early = new Float32Array(5);
    processor.process(early, Int32Array.of(3));
    expect(early[1]).toBe(Number.NEGATIVE_INFINITY);
    expect(early[4]).toBe(Number.NEGATIVE_INFINITY);
    const late = new Float32Array(5);
    processor.process(late, Int32Array.of(3, 3));
    expect([...late]).toEqual([0, 0, 0, 0, 0]);
  });

  for (const strategy of [{}, { num_beams: 3 }, { do_sample: true, seed: 4 }]) {
    it(`lengthens sequences with ${JSON.stringify(strategy)}`, async () => {
      // The end token is the most likely at every step.
      const table = probabilityTable(4, {}, { 1: 0.7, 2: 0.2, 3: 0.1 });
      const result = await generate(new ToyStepModel(4, table), {
        bos_token_id: 0,
        eos_token_id: 1,
        max_new_tokens: 10,
        min_new_tokens: 3,
        ...strategy,
      });
      for (const sequence of result.sequences) {
        expect(sequence.tokenIds.length).toBeGreaterThanOrEqual(3);
        expect(sequence.finishReason).toBe("eos");
      }
      // Masking renormalises: with the end token gone, token 2 has probability 0.2 / 0.3.
      if (!("num_beams" in strategy) && !("do_sample" in strategy)) {
        expect([...(result.sequences[0]?.tokenIds ?? [])]).toEqual([2, 2, 2]);
        expect(result.sequences[0]?.tokenLogprobs[0]).toBeCloseTo(Math.log(2 / 3), 6);
      }
    });
  }
});

describe("log-softmax", () => {
  it("accumulates in float64", () => {
    // 50257 equal logits: float32 accumulation of 1.0 would stall at 2^24, float64 does not.
    const row = new Float32Array(50257).fill(0.25);
    expect(logSumExp(row)).toBeCloseTo(0.25 + Math.log(50257), 9);
    expect(logSoftmax(row)[7]).toBeCloseTo(-Math.log(50257), 9);
  });

  it("rejects NaN logits", () => {
    expect(() => logSumExp(Float32Array.of(0, Number.NaN))).toThrow(/NaN/);
    expect(() => logSumExp(Float32Array.of(Number.NEGATIVE_INFINITY, Number.NaN))).toThrow(/NaN/);
  });

  it("returns -Infinity for masked rows", () => {
    expect(logSumExp(Float32Array.of(Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY))).toBe(
      Number.NEGATIVE_INFINITY,
    );
  });

  it("keeps small probabilities", () => {
    const result = logSoftmax(Float32Array.of(0, -80));
    expect(result[1]).toBeCloseTo(-80, 6);
  });
});

describe("step contract", () => {
  it("rejects logits of the wrong size", async () => {
    const model = { vocabSize: 4, step: async () => ({ logits: new Float32Array(3) }) };
    await expect(generate(model, { bos_token_id: 0, eos_token_id: 1 })).rejects.toThrow(
      /1 rows x 4 = 4 values, got 3/,
    );
  });

  it("rejects attention on some steps only", async () => {
    const base = new ToyStepModel(6, randomTable(6, 2), true);
    let calls = 0;
    const model = {
      vocabSize: 6,
      step: async (input: Parameters<ToyStepModel["step"]>[0]) => {
        const output = await base.step(input);
        calls++;
        return calls === 1 ? output : { logits: output.logits };
      },
    };
    await expect(
      generate(model, { bos_token_id: 0, eos_token_id: null, max_new_tokens: 3 }),
    ).rejects.toThrow(/omitted attention at step 1/);
  });

  it("stops on abort", async () => {
    const controller = new AbortController();
    const model = new ToyStepModel(6, randomTable(6, 2));
    const call = generate(
      model,
      { bos_token_id: 0, eos_token_id: null, max_new_tokens: 10 },
      {
        onToken: (event) => {
          if (event.stepIndex === 2) controller.abort(new Error("client went away"));
        },
        signal: controller.signal,
      },
    );
    await expect(call).rejects.toThrow("client went away");
    expect(model.inputs).toHaveLength(3);
  });
});

describe("invalid logits", () => {
  it("names the step and row", async () => {
    const model = {
      vocabSize: 3,
      step: async ({ tokenIds, stepIndex }: { tokenIds: Int32Array; stepIndex: number }) => ({
        logits:
          stepIndex === 1
            ? Float32Array.of(0, Number.NaN, 0)
            : new Float32Array(tokenIds.length * 3),
      }),
    };
    await expect(
      generate(model, { bos_token_id: 0, eos_token_id: null, max_new_tokens: 4 }),
    ).rejects.toThrow("StepModel.step returned invalid logits at step 1, row 0");
  });
});
