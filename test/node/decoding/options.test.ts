import { describe, expect, it } from "vitest";
import {
  GenerationOptionsError,
  generate,
  resolveGenerationOptions,
} from "../../../shared/decoding/index.ts";
import { randomTable, ToyStepModel } from "./toy-models.ts";

const VOCAB = 100;
const BASE = { bos_token_id: 0, eos_token_id: 1 };

function captureError(input: unknown): GenerationOptionsError {
  try {
    resolveGenerationOptions(input, VOCAB);
  } catch (error) {
    if (error instanceof GenerationOptionsError) return error;
    throw error;
  }
  throw new Error(`expected a GenerationOptionsError for ${JSON.stringify(input)}`);
}

describe("resolveGenerationOptions", () => {
  it("fills transformers defaults", () => {
    const resolved = resolveGenerationOptions(BASE, VOCAB);
    expect(resolved.strategy).toBe("greedy");
    expect(resolved.maxNewTokens).toBe(20);
    expect(resolved.topK).toBe(50);
    expect(resolved.topP).toBe(1);
    expect(resolved.lengthPenalty).toBe(1);
    expect(resolved.earlyStopping).toBe(false);
    expect(resolved.eosTokenIds).toEqual(Int32Array.of(1));
    expect(resolved.padTokenId).toBeNull();
  });

  it("selects the strategy", () => {
    expect(resolveGenerationOptions({ ...BASE, do_sample: true }, VOCAB).strategy).toBe("sampling");
    expect(resolveGenerationOptions({ ...BASE, num_beams: 3 }, VOCAB).strategy).toBe("beam_search");
    expect(
      resolveGenerationOptions(
        { ...BASE, num_beams: 4, num_beam_groups: 2, diversity_penalty: 0.5 },
        VOCAB,
      ).strategy,
    ).toBe("diverse_beam_search");
  });

  it("accepts default-valued options of other strategies", () => {
    // A GenerationConfig dumped with all fields carries top_k 50 and length_penalty 1 everywhere.
    const resolved = resolveGenerationOptions(
      { ...BASE, top_k: 50, temperature: 1, length_penalty: 1 },
      VOCAB,
    );
    expect(resolved.strategy).toBe("greedy");
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["bos_token_id", { eos_token_id: 1 }, "missing"],
    ["bos_token_id", { bos_token_id: 100 }, "0 to 99"],
    ["bos_token_id", { bos_token_id: 1.5 }, "integer"],
    ["eos_token_id", { ...BASE, eos_token_id: [1, -2] }, "token id"],
    ["pad_token_id", { ...BASE, pad_token_id: "x" }, "integer"],
    ["max_new_tokens", { ...BASE, max_new_tokens: 0 }, "at least 1"],
    ["max_new_tokens", { ...BASE, max_new_tokens: 2.5 }, "integer"],
    ["min_new_tokens", { ...BASE, min_new_tokens: -1 }, "at least 0"],
    ["min_new_tokens", { ...BASE, min_new_tokens: 30, max_new_tokens: 20 }, "max_new_tokens"],
    ["do_sample", { ...BASE, do_sample: "yes" }, "boolean"],
    ["num_beams", { ...BASE, num_beams: 0 }, "at least 1"],
    ["num_beams", { ...BASE, num_beams: 2.5 }, "integer"],
    [
      "num_beam_groups",
      { ...BASE, num_beams: 4, num_beam_groups: 3, diversity_penalty: 1 },
      "1, 2, 4",
    ],
    [
      "num_beam_groups",
      { ...BASE, num_beams: 2, num_beam_groups: 4, diversity_penalty: 1 },
      "divide",
    ],
    [
      "num_beam_groups",
      { ...BASE, do_sample: true, num_beams: 4, num_beam_groups: 2, diversity_penalty: 1 },
      "do_sample",
    ],
    ["num_beams", { ...BASE, do_sample: true, num_beams: 3 }, "do_sample"],
    ["diversity_penalty", { ...BASE, num_beams: 4, diversity_penalty: 0.5 }, "num_beam_groups"],
    ["diversity_penalty", { ...BASE, num_beams: 4, num_beam_groups: 2 }, "positive"],
    [
      "diversity_penalty",
      { ...BASE, num_beams: 4, num_beam_groups: 2, diversity_penalty: -1 },
      "negative",
    ],
    ["length_penalty", { ...BASE, num_beams: 2, length_penalty: Number.NaN }, "finite"],
    ["length_penalty", { ...BASE, length_penalty: 2 }, "without beam search"],
    ["early_stopping", { ...BASE, num_beams: 2, early_stopping: "always" }, '"never"'],
    ["early_stopping", { ...BASE, early_stopping: true }, "without beam search"],
    ["temperature", { ...BASE, do_sample: true, temperature: 0 }, "positive"],
    ["temperature", { ...BASE, do_sample: true, temperature: -1 }, "positive"],
    ["temperature", { ...BASE, temperature: 0.7 }, "without sampling"],
    ["top_k", { ...BASE, do_sample: true, top_k: -1 }, "at least 0"],
    ["top_k", { ...BASE, do_sample: true, top_k: 2.5 }, "integer"],
    ["top_k", { ...BASE, top_k: 10 }, "without sampling"],
    ["top_p", { ...BASE, do_sample: true, top_p: 0 }, "(0, 1]"],
    ["top_p", { ...BASE, do_sample: true, top_p: 1.5 }, "(0, 1]"],
    ["top_p", { ...BASE, num_beams: 3, top_p: 0.9 }, "without sampling"],
    ["seed", { ...BASE, do_sample: true, seed: -3 }, "at least 0"],
    ["seed", { ...BASE, seed: 3 }, "without sampling"],
    ["repetition_penalty", { ...BASE, repetition_penalty: 0 }, "positive"],
    ["no_repeat_ngram_size", { ...BASE, no_repeat_ngram_size: 1.5 }, "integer"],
    ["num_return_sequences", { ...BASE, num_return_sequences: 2 }, "greedy"],
    ["num_return_sequences", { ...BASE, num_beams: 3, num_return_sequences: 4 }, "num_beams"],
    ["num_return_sequences", { ...BASE, do_sample: true, num_return_sequences: 0 }, "at least 1"],
    ["topK", { ...BASE, do_sample: true, topK: 5 }, "top_k"],
    ["beams", { ...BASE, beams: 5 }, "num_beams"],
    ["options", null as unknown as Record<string, unknown>, "object"],
  ];

  for (const [param, input, fragment] of invalid) {
    it(`rejects ${param} in ${JSON.stringify(input)}`, () => {
      const error = captureError(input);
      expect(error.param).toBe(param);
      expect(error.message).toContain(param);
      expect(error.message).toContain(fragment);
      // Every message ends with the fix after a colon.
      expect(error.message).toMatch(/: .+\.$/);
    });
  }

  it("names the value in the message", () => {
    const error = captureError({ ...BASE, num_beams: 6, num_beam_groups: 4, diversity_penalty: 1 });
    expect(error.value).toBe(4);
    expect(error.message).toContain("got 4");
    expect(error.message).toContain("1, 2, 3, 6");
  });

  it("allows any num_return_sequences for sampling", () => {
    const resolved = resolveGenerationOptions(
      { ...BASE, do_sample: true, num_return_sequences: 12 },
      VOCAB,
    );
    expect(resolved.numReturnSequences).toBe(12);
  });
});

describe("generate option checks", () => {
  it("rejects onToken with beam search", async () => {
    const model = new ToyStepModel(8, randomTable(8, 0));
    const call = generate(model, { ...BASE, num_beams: 2 }, { onToken: () => {} });
    await expect(call).rejects.toBeInstanceOf(GenerationOptionsError);
    await expect(call).rejects.toMatchObject({ param: "onToken" });
    expect(model.inputs).toHaveLength(0);
  });

  it("validates before the first step", async () => {
    const model = new ToyStepModel(8, randomTable(8, 0));
    await expect(generate(model, { ...BASE, top_p: 2, do_sample: true })).rejects.toMatchObject({
      param: "top_p",
    });
    expect(model.inputs).toHaveLength(0);
  });

  it("rejects token ids outside the vocabulary", async () => {
    const model = new ToyStepModel(8, randomTable(8, 0));
    await expect(generate(model, { bos_token_id: 0, eos_token_id: 8 })).rejects.toMatchObject({
      param: "eos_token_id",
    });
  });
});
