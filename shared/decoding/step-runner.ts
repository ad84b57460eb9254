// Calls StepModel.step and checks its output against the contract in types.ts.
import type { StepModel } from "./types.ts";

export interface StepResult {
  /** A copy of the logits (rows x vocabSize), so processors may change it in place. */
  logits: Float32Array;
  /** One copied attention row per batch row, or null when the model returns no attention. */
  attentionRows: Float32Array[] | null;
}

export class StepRunner {
  readonly model: StepModel;
  /** Number of step calls made so far. */
  calls = 0;
  private returnsAttention: boolean | null = null;

  constructor(model: StepModel) {
    this.model = model;
  }

  async run(
    tokenIds: Int32Array,
    beamIndices: Int32Array | null,
    stepIndex: number,
  ): Promise<StepResult> {
    const rows = tokenIds.length;
    const vocabSize = this.model.vocabSize;
    const output = await this.model.step({ tokenIds, beamIndices, stepIndex });
    this.calls++;

    const { logits, attention } = output;
    if (!(logits instanceof Float32Array) || logits.length !== rows * vocabSize) {
      const got = logits instanceof Float32Array ? `${logits.length} values` : String(logits);
      throw new Error(
        `StepModel.step returned invalid logits at step ${stepIndex}: expected a Float32Array of ${rows} rows x ${vocabSize} = ${rows * vocabSize} values, got ${got}.`,
      );
    }

    const hasAttention = attention !== undefined;
    if (this.returnsAttention === null) this.returnsAttention = hasAttention;
    if (hasAttention !== this.returnsAttention) {
      throw new Error(
        `StepModel.step ${hasAttention ? "returned" : "omitted"} attention at step ${stepIndex} but ${hasAttention ? "omitted" : "returned"} it at step 0: return it at every step or at none.`,
      );
    }

    return {
      logits: logits.slice(),
      attentionRows: hasAttention ? splitRows(attention, rows, stepIndex) : null,
    };
  }
}

function splitRows(attention: Float32Array, rows: number, stepIndex: number): Float32Array[] {
  if (!(attention instanceof Float32Array) || attention.length % rows !== 0) {
    throw new Error(
      `StepModel.step returned invalid attention at step ${stepIndex}: expected a Float32Array of ${rows} equal rows, got ${attention instanceof Float32Array ? `${attention.length} values` : String(attention)}.`,
    );
  }
  const width = attention.length / rows;
  const result: Float32Array[] = [];
  for (let row = 0; row < rows; row++) {
    result.push(attention.slice(row * width, (row + 1) * width));
  }
  return result;
}
