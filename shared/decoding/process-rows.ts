// The per-step work shared by every strategy: run the logits processors on each row and compute
// each row's log-softmax normalizer.
import { logSumExp } from "./log-softmax.ts";
import { applyLogitsProcessors, type LogitsProcessor } from "./logits-processors.ts";
import type { RowHistories } from "./row-histories.ts";

/**
 * Processes `logits` (rows x vocabSize) in place and returns log(sum(exp(row))) per row, so that
 * log-softmax(row)[token] = row[token] - normalizer. Throws with the step and row on NaN logits.
 */
export function processRows(
  logits: Float32Array,
  vocabSize: number,
  processors: readonly LogitsProcessor[],
  histories: RowHistories,
  stepIndex: number,
): Float64Array {
  const rows = logits.length / vocabSize;
  const normalizers = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    const rowLogits = logits.subarray(row * vocabSize, (row + 1) * vocabSize);
    applyLogitsProcessors(processors, rowLogits, histories.generated(row));
    try {
      normalizers[row] = logSumExp(rowLogits);
    } catch (error) {
      throw new Error(`StepModel.step returned invalid logits at step ${stepIndex}, row ${row}`, {
        cause: error,
      });
    }
  }
  return normalizers;
}
