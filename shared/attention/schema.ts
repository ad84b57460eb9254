// The attention dump format `edgecap.attention/v1` (docs/attention-schema.md) as zod schemas and
// TypeScript types, shared by the runtime that writes it, the LLaVA importer and the report site.
import { z } from "zod";

export const ATTENTION_SCHEMA = "edgecap.attention/v1";

const finite = z.number().finite();

export const attentionTokenSchema = z.object({
  index: z.number().int().nonnegative(),
  id: z.number().int().nonnegative(),
  text: z.string(),
  image_mass: finite.min(0),
  attention: z.array(finite),
});

export const attentionHypothesisSchema = z.object({
  rank: z.number().int().nonnegative(),
  caption: z.string(),
  score: finite.nullable(),
  tokens: z.array(attentionTokenSchema),
});

export const attentionDocumentSchema = z
  .object({
    schema: z.literal(ATTENTION_SCHEMA),
    model: z
      .object({
        id: z.string().min(1),
        sha256: z.string().nullable(),
        family: z.enum(["prefix-gpt2", "vision-encoder-decoder", "llava"]),
      })
      .passthrough(),
    image: z
      .object({
        id: z.string(),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
        sha256: z.string().nullable().optional(),
      })
      .passthrough(),
    config: z.record(z.string(), z.unknown()),
    grid: z.object({ rows: z.number().int().positive(), cols: z.number().int().positive() }),
    crop: z.object({
      left: finite,
      top: finite,
      width: finite.positive(),
      height: finite.positive(),
    }),
    layers: z.array(z.number().int().nonnegative()),
    sink_removed: z.boolean(),
    hypotheses: z.array(attentionHypothesisSchema),
  })
  .passthrough()
  .superRefine((document, context) => {
    const cells = document.grid.rows * document.grid.cols;
    document.hypotheses.forEach((hypothesis, h) => {
      hypothesis.tokens.forEach((token, t) => {
        if (token.attention.length !== cells) {
          context.addIssue({
            code: "custom",
            path: ["hypotheses", h, "tokens", t, "attention"],
            message: `expected ${cells} values (grid ${document.grid.rows} x ${document.grid.cols}), got ${token.attention.length}`,
          });
        }
      });
    });
  });

export type AttentionToken = z.infer<typeof attentionTokenSchema>;
export type AttentionHypothesis = z.infer<typeof attentionHypothesisSchema>;
export type AttentionDocument = z.infer<typeof attentionDocumentSchema>;

/** Rounds to `digits` significant digits, the precision writers keep (docs/attention-schema.md). */
export function roundSignificant(value: number, digits = 6): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}

/**
 * Turns one unnormalised attention row over the patches into the schema's pair: the row divided by
 * its sum, and that sum as image_mass. An all-zero row stays zeros.
 */
export function normalizeAttentionRow(patches: ArrayLike<number>): {
  attention: number[];
  imageMass: number;
} {
  let sum = 0;
  for (let i = 0; i < patches.length; i++) sum += patches[i] as number;
  const attention = new Array<number>(patches.length);
  for (let i = 0; i < patches.length; i++) {
    attention[i] = sum > 0 ? roundSignificant((patches[i] as number) / sum) : 0;
  }
  return { attention, imageMass: roundSignificant(sum) };
}
