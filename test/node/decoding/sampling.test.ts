import { describe, expect, it } from "vitest";
import {
  drawFromLogits,
  generate,
  TemperatureWarper,
  type TokenEvent,
  TopKWarper,
  TopPWarper,
  Xoshiro128StarStar,
} from "../../../shared/decoding/index.ts";
import { probabilityTable, randomTable, ToyStepModel } from "./toy-models.ts";

const BOS = 0;
const EOS = 1;

function maskedTokens(logits: Float32Array): number[] {
  const masked: number[] = [];
  logits.forEach((value, token) => {
    if (value === Number.NEGATIVE_INFINITY) masked.push(token);
  });
  return masked;
}

describe("Xoshiro128StarStar", () => {
  it("matches the C reference outputs", () => {
    // First outputs of xoshiro128** 1.1 seeded by SplitMix64, from the reference C code at
    // https://prng.di.unimi.it/ compiled with gcc.
    const zero = new Xoshiro128StarStar(0);
    expect(Array.from({ length: 5 }, () => zero.nextUint32())).toEqual([
      3737715805, 2584255861, 2876756834, 3286328325, 1553311962,
    ]);
    const fortyTwo = new Xoshiro128StarStar(42);
    expect(Array.from({ length: 3 }, () => fortyTwo.nextUint32())).toEqual([
      1776835114, 4165204688, 17111135,
    ]);
  });

  it("draws doubles in [0, 1)", () => {
    const random = new Xoshiro128StarStar(7);
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const value = random.nextDouble();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
      sum += value;
    }
    expect(sum / 10000).toBeCloseTo(0.5, 1);
  });

  it("rejects invalid seeds", () => {
    expect(() => new Xoshiro128StarStar(-1)).toThrow(/seed/);
    expect(() => new Xoshiro128StarStar(1.5)).toThrow(/seed/);
  });
});

describe("sampling warpers", () => {
  it("top_k keeps the k largest logits", () => {
    const logits = Float32Array.of(0.1, 3, -2, 2, 5, 1);
    new TopKWarper(3).process(logits);
    expect(maskedTokens(logits)).toEqual([0, 2, 5]);
    expect(logits[4]).toBeCloseTo(5, 6);
  });

  it("top_k keeps ties with the k-th logit", () => {
    const logits = Float32Array.of(1, 2, 2, 0);
    new TopKWarper(2).process(logits);
    expect(maskedTokens(logits)).toEqual([0, 3]);
    const ties = Float32Array.of(2, 1, 2, 2);
    new TopKWarper(2).process(ties);
    expect(maskedTokens(ties)).toEqual([1]);
  });

  it("top_k at least the vocabulary keeps all", () => {
    const logits = Float32Array.of(1, 2, 3);
    new TopKWarper(3).process(logits);
    expect(maskedTokens(logits)).toEqual([]);
  });

  it("top_p keeps the smallest nucleus", () => {
    // Probabilities 0.5, 0.3, 0.15, 0.05 for tokens 2, 0, 3, 1.
    const probabilities = [0.3, 0.05, 0.5, 0.15];
    const cases: [number, number[]][] = [
      [0.4, [0, 1, 3]], // 0.5 alone reaches 0.4
      [0.5, [0, 1, 3]], // mass above token 0 is 0.5, not below 0.5
      [0.7, [1, 3]], // 0.5 + 0.3 reaches 0.7
      [0.8, [1, 3]],
      [0.9, [1]], // 0.95 needed
      [0.99, []],
    ];
    for (const [topP, expected] of cases) {
      const logits = Float32Array.from(probabilities, Math.log);
      new TopPWarper(topP).process(logits);
      expect(maskedTokens(logits), `top_p ${topP}`).toEqual(expected);
    }
  });

  it("top_p drops a token exactly at the boundary", () => {
    // Four equal logits give exact shares of 0.25: the third token has 0.5 of mass above it, which
    // reaches top_p 0.5, so it goes (transformers removes tokens whose mass above is >= top_p).
    const logits = Float32Array.of(1, 1, 1, 1);
    new TopPWarper(0.5).process(logits);
    expect(maskedTokens(logits)).toEqual([2, 3]);
  });

  it("top_p keeps the top token always", () => {
    const logits = Float32Array.of(0, 10, 0);
    new TopPWarper(0.01).process(logits);
    expect(maskedTokens(logits)).toEqual([0, 2]);
  });

  it("temperature divides logits", () => {
    const logits = Float32Array.of(1, -2, 4);
    new TemperatureWarper(0.5).process(logits);
    expect([...logits]).toEqual([2, -4, 8]);
  });
});

describe("drawFromLogits", () => {
  it("follows the softmax distribution", () => {
    const logits = Float32Array.from([0.6, 0.3, 0.1, 0], (p) =>
      p === 0 ? Number.NEGATIVE_INFINITY : Math.log(p),
    );
    const weights = new Float64Array(4);
    const random = new Xoshiro128StarStar(99);
    const counts = [0, 0, 0, 0];
    const draws = 30000;
    for (let i = 0; i < draws; i++) {
      const token = drawFromLogits(logits, weights, random.nextDouble());
      counts[token] = (counts[token] as number) + 1;
    }
    // Standard error of each share is below 0.003, so 0.015 is five of them.
    expect(Math.abs((counts[0] as number) / draws - 0.6)).toBeLessThan(0.015);
    expect(Math.abs((counts[1] as number) / draws - 0.3)).toBeLessThan(0.015);
    expect(Math.abs((counts[2] as number) / draws - 0.1)).toBeLessThan(0.015);
    expect(counts[3]).toBe(0);
  });

  it("maps the uniform to the cumulative weights", () => {
    const logits = Float32Array.from([0.25, 0.25, 0.5], Math.log);
    const weights = new Float64Array(3);
    expect(drawFromLogits(logits, weights, 0)).toBe(0);
    expect(drawFromLogits(logits, weights, 0.26)).toBe(1);
    expect(drawFromLogits(logits, weights, 0.51)).toBe(2);
    expect(drawFromLogits(logits, weights, 0.999999999)).toBe(2);
  });

  it("returns -1 for fully masked rows", () => {
    expect(
      drawFromLogits(Float32Array.of(Number.NEGATIVE_INFINITY), new Float64Array(1), 0.5),
    ).toBe(-1);
  });
});

describe("sampling", () => {
  const options = {
    bos_token_id: BOS,
    eos_token_id: EOS,
    do_sample: true,
    max_new_tokens: 12,
    num_return_sequences: 6,
    top_k: 0,
  };

  it("reproduces seeded runs", async () => {
    const first = await generate(new ToyStepModel(40, randomTable(40, 8)), {
      ...options,
      seed: 1234,
    });
    const second = await generate(new ToyStepModel(40, randomTable(40, 8)), {
      ...options,
      seed: 1234,
    });
    const other = await generate(new ToyStepModel(40, randomTable(40, 8)), {
      ...options,
      seed: 1235,
    });
    const tokens = (result: typeof first) => result.sequences.map((s) => [...s.tokenIds].join(" "));

    expect(first.seed).toBe(1234);
    expect(tokens(second)).toEqual(tokens(first));
    expect(second.sequences.map((s) => s.score)).toEqual(first.sequences.map((s) => s.score));
    expect(tokens(other)).not.toEqual(tokens(first));
  });

  it("reports the drawn seed", async () => {
    const first = await generate(new ToyStepModel(40, randomTable(40, 8)), options);
    expect(Number.isSafeInteger(first.seed)).toBe(true);
    const replay = await generate(new ToyStepModel(40, randomTable(40, 8)), {
      ...options,
      seed: first.seed as number,
    });
    expect(replay.sequences.map((s) => [...s.tokenIds])).toEqual(
      first.sequences.map((s) => [...s.tokenIds]),
    );
  });

  it("returns any number of sequences", async () => {
    const model = new ToyStepModel(40, randomTable(40, 8), true);
    const result = await generate(model, { ...options, num_return_sequences: 9, seed: 5 });
    expect(result.sequences).toHaveLength(9);
    // Step 0 reads the begin token once; step 1 fans out to the 9 sequences.
    expect(model.inputs[0]?.tokenIds).toEqual(Int32Array.of(BOS));
    expect(model.inputs[1]?.beamIndices).toEqual(new Int32Array(9));
    for (const sequence of result.sequences) {
      const attention = sequence.attention as Float32Array[];
      expect(attention).toHaveLength(sequence.tokenIds.length);
      attention.forEach((row, position) => {
        expect(row[0]).toBe(position);
        expect(model.prefixes[position]?.[row[1] as number]).toEqual([
          ...sequence.tokenIds.slice(0, position),
        ]);
      });
    }
  });

  it("samples only inside top_k", async () => {
    // Token 2 and 3 are the two largest logits after every prefix; the end token is third.
    const table = probabilityTable(6, {}, { 1: 0.2, 2: 0.35, 3: 0.3, 4: 0.1, 5: 0.05 });
    const result = await generate(new ToyStepModel(6, table), {
      ...options,
      num_return_sequences: 40,
      top_k: 2,
      seed: 3,
    });
    for (const sequence of result.sequences) {
      expect(sequence.finishReason).toBe("length");
      for (const token of sequence.tokenIds) expect([2, 3]).toContain(token);
    }
  });

  it("samples only inside top_p", async () => {
    const table = probabilityTable(6, {}, { 1: 0.05, 2: 0.6, 3: 0.25, 4: 0.07, 5: 0.03 });
    const result = await generate(new ToyStepModel(6, table), {
      ...options,
      num_return_sequences: 40,
      top_p: 0.8,
      seed: 3,
    });
    const seen = new Set(result.sequences.flatMap((sequence) => [...sequence.tokenIds]));
    expect([...seen].sort()).toEqual([2, 3]);
  });

  it("scores with unwarped log-probabilities", async () => {
    const table = probabilityTable(4, { "": { 2: 0.5, 3: 0.5 } }, { 1: 1 });
    const result = await generate(new ToyStepModel(4, table), {
      ...options,
      temperature: 0.3,
      seed: 11,
      num_return_sequences: 4,
    });
    for (const sequence of result.sequences) {
      expect(sequence.tokenLogprobs[0]).toBeCloseTo(Math.log(0.5), 6);
      expect(sequence.endLogprob).toBeCloseTo(0, 9);
      expect(sequence.score).toBeCloseTo(Math.log(0.5), 6);
    }
  });

  it("streams every token once", async () => {
    const events: TokenEvent[] = [];
    const result = await generate(
      new ToyStepModel(40, randomTable(40, 8)),
      { ...options, seed: 77 },
      { onToken: (event) => events.push(event) },
    );
    result.sequences.forEach((sequence, sequenceIndex) => {
      const streamed = events.filter((event) => event.sequenceIndex === sequenceIndex);
      expect(streamed.map((event) => event.tokenId)).toEqual([...sequence.tokenIds]);
      expect(streamed.map((event) => event.logprob)).toEqual([...sequence.tokenLogprobs]);
      expect(streamed.map((event) => event.stepIndex)).toEqual(streamed.map((_, i) => i));
    });
  });
});

describe("greedy", () => {
  it("picks the most likely token each step", async () => {
    const table = probabilityTable(
      5,
      { "": { 2: 0.6, 3: 0.4 }, "2": { 3: 0.7, 1: 0.3 }, "2,3": { 1: 0.9, 4: 0.1 } },
      { 1: 1 },
    );
    const events: TokenEvent[] = [];
    const result = await generate(
      new ToyStepModel(5, table, true),
      { bos_token_id: BOS, eos_token_id: EOS, max_new_tokens: 10 },
      { onToken: (event) => events.push(event) },
    );
    const sequence = result.sequences[0];
    expect([...(sequence?.tokenIds ?? [])]).toEqual([2, 3]);
    expect(sequence?.finishReason).toBe("eos");
    expect(sequence?.score).toBeCloseTo(Math.log(0.6 * 0.7 * 0.9), 6);
    expect(sequence?.attention?.map((row) => [...row])).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(events.map((event) => event.tokenId)).toEqual([2, 3]);
    expect(result.steps).toBe(3);
  });

  it("stops at max_new_tokens", async () => {
    const model = new ToyStepModel(6, randomTable(6, 1));
    const result = await generate(model, {
      bos_token_id: BOS,
      eos_token_id: null,
      max_new_tokens: 4,
    });
    expect(result.sequences[0]?.tokenIds).toHaveLength(4);
    expect(result.sequences[0]?.finishReason).toBe("length");
    expect(result.sequences[0]?.endLogprob).toBeNull();
    expect(model.inputs.every((input) => input.beamIndices === null)).toBe(true);
  });
});
