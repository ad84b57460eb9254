// Decoding flags shared by `edgecap caption` and `edgecap experiment`, mapped onto the runtime's
// Hugging Face-style generation options. Values are checked by the decoding module, which names the
// option in its error; this file only parses numbers and booleans.
import type { CaptionGenerationOptions } from "../../shared/runtime/captioner.ts";
import { UsageError } from "../command.ts";

export const GENERATION_FLAGS = {
  "max-new-tokens": { type: "string" },
  "min-new-tokens": { type: "string" },
  beams: { type: "string" },
  "beam-groups": { type: "string" },
  "diversity-penalty": { type: "string" },
  "length-penalty": { type: "string" },
  "early-stopping": { type: "string" },
  sample: { type: "boolean" },
  temperature: { type: "string" },
  "top-k": { type: "string" },
  "top-p": { type: "string" },
  seed: { type: "string" },
  "repetition-penalty": { type: "string" },
  "no-repeat-ngram-size": { type: "string" },
  "num-return-sequences": { type: "string" },
  generation: { type: "string" },
} as const;

export const GENERATION_USAGE = `Decoding options (Hugging Face GenerationConfig names in brackets):
  --max-new-tokens N        longest caption in tokens [max_new_tokens]
  --min-new-tokens N        end token masked before N tokens [min_new_tokens]
  --beams N                 beam search width; 1 is greedy [num_beams]
  --beam-groups G           diverse beam search groups, dividing --beams [num_beam_groups]
  --diversity-penalty X     Hamming diversity penalty between groups [diversity_penalty]
  --length-penalty X        beam score = sum log-prob / length^X [length_penalty]
  --early-stopping V        true, false or never [early_stopping]
  --sample                  sample instead of searching [do_sample]
  --temperature X           sampling temperature > 0 [temperature]
  --top-k K                 keep the K most likely tokens; 0 keeps all [top_k]
  --top-p P                 nucleus sampling mass in (0, 1] [top_p]
  --seed S                  seed of the sampling PRNG, for reproducible samples [seed]
  --repetition-penalty X    CTRL repetition penalty >= 1 [repetition_penalty]
  --no-repeat-ngram-size N  ban repeating any N-gram [no_repeat_ngram_size]
  --num-return-sequences N  captions returned per image [num_return_sequences]
  --generation JSON         any of the above as a JSON object of GenerationConfig names`;

function number(flag: string, value: string): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) {
    throw new UsageError(`--${flag} must be a number, got "${value}"`);
  }
  return parsed;
}

/** Builds generation options from parsed flags; explicit flags override --generation JSON. */
export function generationFromFlags(
  values: Record<string, string | boolean | undefined>,
): CaptionGenerationOptions {
  let options: Record<string, unknown> = {};
  if (typeof values.generation === "string") {
    try {
      const parsed: unknown = JSON.parse(values.generation);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw new Error("not an object");
      options = { ...(parsed as Record<string, unknown>) };
    } catch (error) {
      throw new UsageError(
        `--generation must be a JSON object such as '{"num_beams": 3}': ${(error as Error).message}`,
      );
    }
  }

  const numeric: [string, string][] = [
    ["max-new-tokens", "max_new_tokens"],
    ["min-new-tokens", "min_new_tokens"],
    ["beams", "num_beams"],
    ["beam-groups", "num_beam_groups"],
    ["diversity-penalty", "diversity_penalty"],
    ["length-penalty", "length_penalty"],
    ["temperature", "temperature"],
    ["top-k", "top_k"],
    ["top-p", "top_p"],
    ["seed", "seed"],
    ["repetition-penalty", "repetition_penalty"],
    ["no-repeat-ngram-size", "no_repeat_ngram_size"],
    ["num-return-sequences", "num_return_sequences"],
  ];
  for (const [flag, name] of numeric) {
    const value = values[flag];
    if (typeof value === "string") options[name] = number(flag, value);
  }

  if (values.sample === true) options.do_sample = true;
  const early = values["early-stopping"];
  if (typeof early === "string") {
    if (early === "true") options.early_stopping = true;
    else if (early === "false") options.early_stopping = false;
    else if (early === "never") options.early_stopping = "never";
    else throw new UsageError(`--early-stopping must be true, false or never, got "${early}"`);
  }
  return options as CaptionGenerationOptions;
}
