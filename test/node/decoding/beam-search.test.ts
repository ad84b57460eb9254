import { describe, expect, it } from "vitest";
import { runBeamSearch } from "../../../shared/decoding/beam-search.ts";
import {
  buildLogitsProcessors,
  generate,
  resolveGenerationOptions,
} from "../../../shared/decoding/index.ts";
import { StepRunner } from "../../../shared/decoding/step-runner.ts";
import { referenceBeamSearch } from "./reference-beam-search.ts";
import {
  enumerateSequences,
  type LogitsTable,
  probabilityTable,
  randomTable,
  ToyStepModel,
} from "./toy-models.ts";

const BOS = 0;
const EOS = 1;

function describeSequences(sequences: { tokenIds: Int32Array; finishReason: string }[]): string[] {
  return sequences.map(
    (sequence) => `${[...sequence.tokenIds].join(" ")}|${sequence.finishReason}`,
  );
}

describe("beam search against a literal transformers transcription", () => {
  const configurations = [
    { numBeams: 2, numBeamGroups: 1 },
    { numBeams: 3, numBeamGroups: 1 },
    { numBeams: 4, numBeamGroups: 2 },
    { numBeams: 6, numBeamGroups: 3 },
  ];

  for (const { numBeams, numBeamGroups } of configurations) {
    it(`matches reference for ${numBeams} beams in ${numBeamGroups} groups`, async () => {
      for (let seed = 0; seed < 40; seed++) {
        for (const earlyStopping of [true, false, "never"] as const) {
          for (const lengthPenalty of [-1, 0, 0.5, 1, 2]) {
            const vocabSize = 8;
            const table = randomTable(vocabSize, seed);
            const diversityPenalty = numBeamGroups > 1 ? 0.7 : 0;
            const result = await generate(new ToyStepModel(vocabSize, table), {
              bos_token_id: BOS,
              eos_token_id: EOS,
              num_beams: numBeams,
              num_beam_groups: numBeamGroups,
              diversity_penalty: diversityPenalty,
              length_penalty: lengthPenalty,
              early_stopping: earlyStopping,
              max_new_tokens: 5,
              num_return_sequences: numBeams,
            });
            const expected = referenceBeamSearch(table, {
              numBeams,
              numBeamGroups,
              diversityPenalty,
              lengthPenalty,
              earlyStopping,
              maxNewTokens: 5,
              eosTokenId: EOS,
              numReturnSequences: numBeams,
            });

            const context = `seed ${seed}, early_stopping ${earlyStopping}, length_penalty ${lengthPenalty}`;
            expect(describeSequences(result.sequences), context).toEqual(
              expected.map((h) => `${h.tokens.join(" ")}|${h.finishReason}`),
            );
            result.sequences.forEach((sequence, i) => {
              expect(sequence.score, context).toBeCloseTo(
                (expected[i] as { score: number }).score,
                9,
              );
            });
          }
        }
      }
    });
  }
});

describe("beam search against exhaustive enumeration", () => {
  // With vocabulary V (one end token) and max_new_tokens N, num_beams >= V x (V - 1)^(N - 1) keeps
  // every prefix running and every end-token candidate inside the top num_beams ranks, so
  // early_stopping "never" must return exactly the best sequences of the enumeration.
  const vocabSize = 3;
  const maxNewTokens = 4;
  const numBeams = vocabSize * (vocabSize - 1) ** (maxNewTokens - 1);

  for (const lengthPenalty of [-1, 0, 0.5, 1, 2]) {
    it(`never finds global top 3 at length_penalty ${lengthPenalty}`, async () => {
      for (let seed = 0; seed < 25; seed++) {
        const table = randomTable(vocabSize, 1000 + seed);
        const all = enumerateSequences(table, EOS, maxNewTokens)
          .map((sequence) => ({
            ...sequence,
            score: sequence.sum / sequence.length ** lengthPenalty,
          }))
          .sort((a, b) => b.score - a.score);

        const result = await generate(new ToyStepModel(vocabSize, table), {
          bos_token_id: BOS,
          eos_token_id: EOS,
          num_beams: numBeams,
          length_penalty: lengthPenalty,
          early_stopping: "never",
          max_new_tokens: maxNewTokens,
          num_return_sequences: 3,
        });

        const expected = all.slice(0, 3);
        expect(describeSequences(result.sequences), `seed ${seed}`).toEqual(
          expected.map((s) => `${s.tokens.join(" ")}|${s.finishReason}`),
        );
        result.sequences.forEach((sequence, i) => {
          expect(sequence.score).toBeCloseTo((expected[i] as { score: number }).score, 9);
        });
      }
    });
  }

  it("reports enumeration scores for every hypothesis", async () => {
    const table = randomTable(4, 77);
    const all = enumerateSequences(table, EOS, 5);
    const scoreOf = new Map(all.map((s) => [`${s.tokens.join(" ")}|${s.finishReason}`, s]));

    for (const lengthPenalty of [0, 1, 2]) {
      const result = await generate(new ToyStepModel(4, table), {
        bos_token_id: BOS,
        eos_token_id: EOS,
        num_beams: 3,
        length_penalty: lengthPenalty,
        max_new_tokens: 5,
        num_return_sequences: 3,
      });
      for (const sequence of result.sequences) {
        const key = describeSequences([sequence])[0] as string;
        const enumerated = scoreOf.get(key);
        expect(enumerated, key).toBeDefined();
        const { sum, length } = enumerated as { sum: number; length: number };
        expect(sequence.score).toBeCloseTo(sum / length ** lengthPenalty, 9);

        const logprobSum =
          sequence.tokenLogprobs.reduce((total, value) => total + value, 0) +
          (sequence.endLogprob ?? 0);
        expect(logprobSum).toBeCloseTo(sum, 9);
      }
    }
  });
});

describe("early_stopping", () => {
  // Random table seed 184 over 4 tokens with 2 beams, max_new_tokens 5 and length_penalty 1: the beam
  // trajectory is the same for all three settings, and only the stopping step differs. true stops once
  // 2 hypotheses are finished. false stops when the worst finished score reaches the best running sum
  // divided by the current length. "never" divides by max_new_tokens, so it runs to the end here.
  const table = randomTable(4, 184, 2);
  const run = (earlyStopping: boolean | "never") =>
    generate(new ToyStepModel(4, table), {
      bos_token_id: BOS,
      eos_token_id: EOS,
      num_beams: 2,
      early_stopping: earlyStopping,
      length_penalty: 1,
      max_new_tokens: 5,
    });

  it("true, false and never return different sequences", async () => {
    const [stopAtOnce, heuristic, exact] = await Promise.all([run(true), run(false), run("never")]);

    expect(describeSequences(stopAtOnce.sequences)).toEqual(["|eos"]);
    expect(describeSequences(heuristic.sequences)).toEqual(["2 3|eos"]);
    expect(describeSequences(exact.sequences)).toEqual(["0 3 3 2 3|length"]);

    expect(stopAtOnce.sequences[0]?.score).toBeCloseTo(-0.9202, 4);
    expect(heuristic.sequences[0]?.score).toBeCloseTo(-0.8568, 4);
    expect(exact.sequences[0]?.score).toBeCloseTo(-0.844, 4);
    expect(stopAtOnce.steps).toBeLessThan(heuristic.steps);
    expect(heuristic.steps).toBeLessThan(exact.steps);
  });

  it("later stopping never lowers the best score", async () => {
    for (let seed = 0; seed < 200; seed++) {
      for (const lengthPenalty of [-0.5, 1, 2]) {
        const seededTable = randomTable(5, seed, 2);
        const scores: number[] = [];
        const steps: number[] = [];
        for (const earlyStopping of [true, false, "never"] as const) {
          const result = await generate(new ToyStepModel(5, seededTable), {
            bos_token_id: BOS,
            eos_token_id: EOS,
            num_beams: 2,
            early_stopping: earlyStopping,
            length_penalty: lengthPenalty,
            max_new_tokens: 6,
          });
          scores.push(result.sequences[0]?.score as number);
          steps.push(result.steps);
        }
        const context = `seed ${seed}, length_penalty ${lengthPenalty}`;
        expect(scores[0], context).toBeLessThanOrEqual(scores[1] as number);
        expect(scores[1], context).toBeLessThanOrEqual(scores[2] as number);
        expect(steps[0], context).toBeLessThanOrEqual(steps[1] as number);
        expect(steps[1], context).toBeLessThanOrEqual(steps[2] as number);
        if (lengthPenalty <= 0) expect(steps[1], context).toBe(steps[2]);
      }
    }
  });
});

describe("length_penalty", () => {
  // After the begin token: end 0.5, "a" (2) 0.5. After "a": end 0.9, "b" (3) 0.1. max_new_tokens 2.
  // Hypotheses: [] with sum log 0.5 over length 1, and ["a"] with sum log 0.5 + log 0.9 over length 2;
  // ["a", "b"] reaches max_new_tokens with sum log 0.5 + log 0.1 over length 2.
  const table = probabilityTable(4, { "": { 1: 0.5, 2: 0.5 }, "2": { 1: 0.9, 3: 0.1 } }, { 1: 1 });
  const empty = Math.log(0.5);
  const oneToken = Math.log(0.5) + Math.log(0.9);
  const twoTokens = Math.log(0.5) + Math.log(0.1);

  const cases = [
    { lengthPenalty: 0, best: "|eos", score: empty },
    { lengthPenalty: 1, best: "2|eos", score: oneToken / 2 },
    { lengthPenalty: 2, best: "2|eos", score: oneToken / 4 },
    { lengthPenalty: -1, best: "|eos", score: empty },
  ];

  for (const { lengthPenalty, best, score } of cases) {
    it(`ranks by sum over length^${lengthPenalty}`, async () => {
      const result = await generate(new ToyStepModel(4, table), {
        bos_token_id: BOS,
        eos_token_id: EOS,
        num_beams: 2,
        length_penalty: lengthPenalty,
        early_stopping: "never",
        max_new_tokens: 2,
        num_return_sequences: 2,
      });
      expect(describeSequences(result.sequences)[0]).toBe(best);
      expect(result.sequences[0]?.score).toBeCloseTo(score, 6);
    });
  }

  it("scores every hypothesis by hand", async () => {
    const result = await generate(new ToyStepModel(4, table), {
      bos_token_id: BOS,
      eos_token_id: EOS,
      num_beams: 2,
      length_penalty: 1,
      early_stopping: "never",
      max_new_tokens: 2,
      num_return_sequences: 2,
    });
    // log(0.45) / 2 = -0.399 beats log(0.5) / 1 = -0.693; ["a", "b"] scores log(0.05) / 2 = -1.498.
    expect(describeSequences(result.sequences)).toEqual(["2|eos", "|eos"]);
    expect(result.sequences[1]?.score).toBeCloseTo(empty, 6);
    expect(twoTokens / 2).toBeLessThan(empty);
  });
});

describe("diverse beam search", () => {
  // Three tokens after the begin token with probabilities 0.5 (token 2), 0.3 (token 3), 0.2 (token 4),
  // then the end token for sure. 2 beams in 2 groups, diversity_penalty 1, max_new_tokens 2.
  const table = probabilityTable(5, { "": { 2: 0.5, 3: 0.3, 4: 0.2 } }, { 1: 1 });

  it("penalises tokens of earlier groups by hand", async () => {
    const result = await generate(new ToyStepModel(5, table), {
      bos_token_id: BOS,
      eos_token_id: EOS,
      num_beams: 2,
      num_beam_groups: 2,
      diversity_penalty: 1,
      length_penalty: 0,
      max_new_tokens: 2,
      num_return_sequences: 2,
    });
    // Group 0 picks token 2 (log 0.5). Group 1 scores token 2 at log 0.5 - 1 = -1.693, below token 3 at
    // log 0.3 = -1.204, so it picks token 3. Both then end with log 1 = 0, and length_penalty 0 keeps the sums.
    expect(describeSequences(result.sequences)).toEqual(["2|eos", "3|eos"]);
    expect(result.sequences[0]?.score).toBeCloseTo(Math.log(0.5), 6);
    expect(result.sequences[1]?.score).toBeCloseTo(Math.log(0.3), 6);
  });

  it("keeps the penalty inside the score", async () => {
    // With diversity_penalty 0.1, group 1 takes token 2 as well (log 0.5 - 0.1 = -0.793 > -1.204),
    // and its score carries the 0.1 while tokenLogprobs do not.
    const result = await generate(new ToyStepModel(5, table), {
      bos_token_id: BOS,
      eos_token_id: EOS,
      num_beams: 2,
      num_beam_groups: 2,
      diversity_penalty: 0.1,
      length_penalty: 0,
      max_new_tokens: 2,
      num_return_sequences: 2,
    });
    expect(describeSequences(result.sequences)).toEqual(["2|eos", "2|eos"]);
    expect(result.sequences[1]?.score).toBeCloseTo(Math.log(0.5) - 0.1, 6);
    expect(result.sequences[1]?.tokenLogprobs[0]).toBeCloseTo(Math.log(0.5), 6);
  });

  it("runs all groups in one step call per token", async () => {
    const model = new ToyStepModel(12, randomTable(12, 5));
    const result = await generate(model, {
      bos_token_id: BOS,
      eos_token_id: EOS,
      num_beams: 4,
      num_beam_groups: 2,
      diversity_penalty: 0.5,
      max_new_tokens: 6,
    });
    expect(model.inputs.length).toBe(result.steps);
    expect(model.inputs.map((input) => input.stepIndex)).toEqual(model.inputs.map((_, i) => i));
    expect(model.inputs[0]?.tokenIds).toEqual(Int32Array.of(BOS));
    expect(model.inputs[1]?.tokenIds.length).toBe(4);
    expect(model.inputs[1]?.beamIndices).toEqual(Int32Array.of(0, 0, 0, 0));
  });
});

describe("beam search basics", () => {
  it("width 1 equals greedy", async () => {
    // generate() maps num_beams 1 to greedy decoding, as transformers does, so the beam search
    // loop is run directly here with one beam.
    for (let seed = 0; seed < 50; seed++) {
      const table: LogitsTable = randomTable(30, seed);
      const greedy = await generate(new ToyStepModel(30, table), {
        bos_token_id: BOS,
        eos_token_id: EOS,
        max_new_tokens: 8,
        repetition_penalty: 1.3,
      });

      for (const earlyStopping of [true, false] as const) {
        const options = {
          ...resolveGenerationOptions(
            { bos_token_id: BOS, eos_token_id: EOS, max_new_tokens: 8, repetition_penalty: 1.3 },
            30,
          ),
          numBeams: 1,
          earlyStopping,
        };
        const model = new ToyStepModel(30, table);
        const beams = await runBeamSearch(
          new StepRunner(model),
          options,
          buildLogitsProcessors(options),
          undefined,
        );
        expect(describeSequences(beams), `seed ${seed}`).toEqual(
          describeSequences(greedy.sequences),
        );
        expect(beams[0]?.tokenLogprobs).toEqual(greedy.sequences[0]?.tokenLogprobs);
        expect(model.inputs.length).toBe(greedy.steps);
      }
    }
  });

  it("returns num_return_sequences distinct hypotheses best first", async () => {
    const result = await generate(new ToyStepModel(10, randomTable(10, 3)), {
      bos_token_id: BOS,
      eos_token_id: EOS,
      num_beams: 5,
      max_new_tokens: 6,
      num_return_sequences: 4,
    });
    expect(result.sequences).toHaveLength(4);
    const keys = describeSequences(result.sequences);
    expect(new Set(keys).size).toBe(4);
    for (let i = 1; i < result.sequences.length; i++) {
      expect(result.sequences[i - 1]?.score).toBeGreaterThanOrEqual(
        result.sequences[i]?.score as number,
      );
    }
  });

  it("strips the end token and reports it", async () => {
    const table = probabilityTable(4, { "": { 2: 1 }, "2": { 1: 1 } }, { 1: 1 });
    const result = await generate(new ToyStepModel(4, table), {
      bos_token_id: BOS,
      eos_token_id: [3, EOS],
      num_beams: 2,
      max_new_tokens: 4,
    });
    expect(result.sequences[0]?.tokenIds).toEqual(Int32Array.of(2));
    expect(result.sequences[0]?.endTokenId).toBe(EOS);
    expect(result.sequences[0]?.endLogprob).toBeCloseTo(0, 9);
    expect(result.sequences[0]?.tokenLogprobs).toHaveLength(1);
  });
});

describe("attention along beam paths", () => {
  it("follows each hypothesis's own rows", async () => {
    for (let seed = 0; seed < 30; seed++) {
      for (const [numBeams, numBeamGroups] of [
        [3, 1],
        [4, 2],
      ] as const) {
        const model = new ToyStepModel(9, randomTable(9, seed), true);
        const result = await generate(model, {
          bos_token_id: BOS,
          eos_token_id: EOS,
          num_beams: numBeams,
          num_beam_groups: numBeamGroups,
          diversity_penalty: numBeamGroups > 1 ? 0.5 : 0,
          max_new_tokens: 6,
          num_return_sequences: numBeams,
        });

        for (const sequence of result.sequences) {
          const attention = sequence.attention as Float32Array[];
          expect(attention).toHaveLength(sequence.tokenIds.length);
          attention.forEach((row, position) => {
            // Row [step, batch row]: the batch row that produced token `position` must have seen
            // exactly this hypothesis's earlier tokens when that step ran.
            expect(row[0]).toBe(position);
            const prefixSeen = model.prefixes[position]?.[row[1] as number];
            expect(prefixSeen, `seed ${seed}, token ${position}`).toEqual([
              ...sequence.tokenIds.slice(0, position),
            ]);
          });
        }
      }
    }
  });

  it("returns null attention without model attention", async () => {
    const result = await generate(new ToyStepModel(6, randomTable(6, 1)), {
      bos_token_id: BOS,
      eos_token_id: EOS,
      num_beams: 2,
      max_new_tokens: 4,
    });
    expect(result.sequences[0]?.attention).toBeNull();
  });
});
