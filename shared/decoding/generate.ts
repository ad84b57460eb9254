// Entry point: validates the options, builds the logits processors and runs the chosen strategy.
import { runBeamSearch } from "./beam-search.ts";
import { buildLogitsProcessors } from "./logits-processors.ts";
import { GenerationOptionsError, resolveGenerationOptions } from "./options.ts";
import { drawRandomSeed, Xoshiro128StarStar } from "./prng.ts";
import { GreedyChooser, runGreedyOrSampling, SamplingChooser } from "./sampling.ts";
import { buildSamplingWarpers } from "./sampling-warpers.ts";
import { StepRunner } from "./step-runner.ts";
import type { GenerateHooks, GenerationResult, StepModel } from "./types.ts";

/**
 * Generates sequences from `model` with the strategy `options` select (greedy, sampling, beam search
 * or diverse beam search). Throws GenerationOptionsError before the first step when an option is
 * invalid, and rejects with the model's error or the abort reason otherwise.
 */
export async function generate(
  model: StepModel,
  options: unknown,
  hooks: GenerateHooks = {},
): Promise<GenerationResult> {
  const resolved = resolveGenerationOptions(options, model.vocabSize);
  const isBeamSearch =
    resolved.strategy === "beam_search" || resolved.strategy === "diverse_beam_search";
  if (isBeamSearch && hooks.onToken !== undefined) {
    throw new GenerationOptionsError(
      "onToken",
      "function",
      `onToken is not available with ${resolved.strategy}, because beams can still be reordered or dropped: use greedy decoding or sampling to stream, or read the result.`,
    );
  }

  const runner = new StepRunner(model);
  const processors = buildLogitsProcessors(resolved);

  if (isBeamSearch) {
    const sequences = await runBeamSearch(runner, resolved, processors, hooks.signal);
    return { strategy: resolved.strategy, sequences, steps: runner.calls, seed: null };
  }

  if (resolved.strategy === "greedy") {
    const sequences = await runGreedyOrSampling(
      runner,
      resolved,
      processors,
      new GreedyChooser(),
      hooks.onToken,
      hooks.signal,
    );
    return { strategy: "greedy", sequences, steps: runner.calls, seed: null };
  }

  const seed = resolved.seed ?? drawRandomSeed();
  const chooser = new SamplingChooser(
    resolved.vocabSize,
    buildSamplingWarpers(resolved),
    new Xoshiro128StarStar(seed),
  );
  const sequences = await runGreedyOrSampling(
    runner,
    resolved,
    processors,
    chooser,
    hooks.onToken,
    hooks.signal,
  );
  return { strategy: "sampling", sequences, steps: runner.calls, seed };
}
