// Loading and comparing the golden COCO caption metric values (pycocoevalcap outputs).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { OWNER_DATA_DIR } from "../../helpers/paths.ts";

export const GOLDEN_DIR = join(OWNER_DATA_DIR, "golden", "metrics");

export interface GoldenScores {
  bleu: number[];
  rouge_l: number;
  cider: number;
}

export interface GoldenCase {
  name: string;
  tokenized: boolean;
  image_ids: string[];
  gts: Record<string, string[]>;
  res: Record<string, string[]>;
  ptb_tokenized?: { gts: Record<string, string[]>; res: Record<string, string[]> };
  expected: GoldenScores & { per_image: Record<string, GoldenScores> };
  diagnostics: {
    n_images: number;
    bleu_totals: { testlen: number; reflen: number; guess: number[]; correct: number[] };
    bleu_per_image?: Record<
      string,
      { testlen: number; closest_reflen: number; guess: number[]; correct: number[] }
    >;
  };
  quirk?: string;
}

export function loadGoldenCases(): { file: string; golden: GoldenCase }[] {
  const dir = join(GOLDEN_DIR, "cases");
  return readdirSync(dir)
    .filter((file) => /^\d+_.*\.json$/.test(file))
    .sort()
    .map((file) => ({
      file,
      golden: JSON.parse(readFileSync(join(dir, file), "utf8")) as GoldenCase,
    }));
}

/** Candidates and references in the order the reference scorers iterated. */
export function corpusOf(
  imageIds: readonly string[],
  gts: Record<string, string[]>,
  res: Record<string, string[]>,
): { imageIds: string[]; candidates: string[]; references: string[][] } {
  return {
    imageIds: [...imageIds],
    candidates: imageIds.map((id) => (res[id] as string[])[0] as string),
    references: imageIds.map((id) => gts[id] as string[]),
  };
}

/** Relative tolerance 1e-12, absolute 1e-12 near zero, as the golden README prescribes. */
export function expectClose(actual: number | undefined, expected: number, label: string): void {
  expect(actual, label).toBeTypeOf("number");
  const difference = Math.abs((actual as number) - expected);
  const allowed = Math.abs(expected) < 1 ? 1e-12 : 1e-12 * Math.abs(expected);
  expect(difference, `${label}: got ${actual}, expected ${expected}`).toBeLessThanOrEqual(allowed);
}
