// Beam search and diverse (group) beam search over a StepModel, following the semantics of
// transformers' BeamSearchScorer and _group_beam_search; plain beam search is the one-group case.
// Differences from transformers are listed in docs/decoding.md.
import { BeamHypotheses } from "./beam-hypotheses.ts";
import { HammingDiversity } from "./hamming-diversity.ts";
import type { LogitsProcessor } from "./logits-processors.ts";
import type { ResolvedGenerationOptions } from "./options.ts";
import { processRows } from "./process-rows.ts";
import { type PathSnapshot, RowHistories } from "./row-histories.ts";
import type { StepRunner } from "./step-runner.ts";
import { TopCandidates } from "./top-candidates.ts";
import type { FinishReason, GeneratedSequence } from "./types.ts";

interface FinishedPath {
  path: PathSnapshot;
  finishReason: FinishReason;
  endTokenId: number | null;
  endLogprob: number | null;
}

/** The beams one group keeps at a step, as parallel lists (rows of the step that just ran). */
interface SelectedBeams {
  parents: number[];
  tokens: number[];
  logprobs: number[];
  scores: number[];
}

export async function runBeamSearch(
  runner: StepRunner,
  options: ResolvedGenerationOptions,
  processors: readonly LogitsProcessor[],
  signal: AbortSignal | undefined,
): Promise<GeneratedSequence[]> {
  const { vocabSize, maxNewTokens, numBeamGroups } = options;
  const groupSize = options.numBeams / numBeamGroups;
  const isEos = new Uint8Array(vocabSize);
  for (const token of options.eosTokenIds) isEos[token] = 1;

  const hypotheses = Array.from(
    { length: numBeamGroups },
    () =>
      new BeamHypotheses<FinishedPath>(
        groupSize,
        options.lengthPenalty,
        options.earlyStopping,
        maxNewTokens,
      ),
  );
  const done = new Array<boolean>(numBeamGroups).fill(false);
  const diversity =
    numBeamGroups > 1 ? new HammingDiversity(vocabSize, options.diversityPenalty) : null;
  // transformers keeps max(2, 1 + number of end tokens) x group size candidates, so that after
  // end-token candidates go to the finished list at least groupSize running beams remain.
  const candidates = new TopCandidates(Math.max(2, 1 + options.eosTokenIds.length) * groupSize);

  // Step 0 runs the begin token once, and every group expands from that single row. This matches
  // transformers, which starts all beams but the first of each group at a score of -1e9.
  const histories = new RowHistories(maxNewTokens);
  let groupRows: number[][] = Array.from({ length: numBeamGroups }, () => [0]);
  let beamScores = new Float64Array(1);
  let tokenIds = Int32Array.of(options.bosTokenId);
  let beamIndices: Int32Array | null = null;

  for (let stepIndex = 0; stepIndex < maxNewTokens; stepIndex++) {
    signal?.throwIfAborted();
    const { logits, attentionRows } = await runner.run(tokenIds, beamIndices, stepIndex);
    const withAttention = attentionRows !== null;
    const generatedLength = stepIndex + 1; // tokens of a candidate, its new token included

    const normalizers = processRows(logits, vocabSize, processors, histories, stepIndex);

    diversity?.reset();
    const selected: (SelectedBeams | null)[] = [];
    for (let group = 0; group < numBeamGroups; group++) {
      if (done[group]) {
        selected.push(null);
        continue;
      }
      collectCandidates(
        candidates,
        logits,
        vocabSize,
        groupRows[group] as number[],
        beamScores,
        normalizers,
        diversity,
      );

      const beams: SelectedBeams = { parents: [], tokens: [], logprobs: [], scores: [] };
      for (let rank = 0; rank < candidates.size && beams.parents.length < groupSize; rank++) {
        const row = candidates.rows[rank] as number;
        const token = candidates.tokens[rank] as number;
        const score = candidates.scores[rank] as number;
        const logprob = (logits[row * vocabSize + token] as number) - (normalizers[row] as number);

        if (isEos[token] === 1) {
          // An end token outside the top groupSize candidates is not a hypothesis (transformers' rule).
          if (rank >= groupSize) continue;
          const finished: FinishedPath = {
            path: histories.snapshot(row, withAttention),
            finishReason: "eos",
            endTokenId: token,
            endLogprob: logprob,
          };
          (hypotheses[group] as BeamHypotheses<FinishedPath>).add(score, generatedLength, finished);
          continue;
        }
        beams.parents.push(row);
        beams.tokens.push(token);
        beams.logprobs.push(logprob);
        beams.scores.push(score);
      }

      if (candidates.size > 0) {
        const bestSum = candidates.scores[0] as number;
        done[group] = (hypotheses[group] as BeamHypotheses<FinishedPath>).isDone(
          bestSum,
          generatedLength,
        );
      }
      // NOTE: transformers raises when fewer than groupSize running beams remain. Here such a group
      // continues with fewer beams, and one whose candidates are all masked or end tokens is done.
      if (beams.parents.length === 0) done[group] = true;

      // The penalty of later groups counts this group's picks even if the group just finished.
      for (const token of beams.tokens) diversity?.record(token);
      selected.push(beams);
    }

    // Rows of groups that are done leave the batch; the others become the next step's rows.
    const parents: number[] = [];
    const tokens: number[] = [];
    const logprobs: number[] = [];
    const scores: number[] = [];
    const nextGroupRows: number[][] = [];
    for (let group = 0; group < numBeamGroups; group++) {
      const beams = selected[group];
      const rows: number[] = [];
      if (!done[group] && beams) {
        for (let i = 0; i < beams.parents.length; i++) {
          rows.push(parents.length);
          parents.push(beams.parents[i] as number);
          tokens.push(beams.tokens[i] as number);
          logprobs.push(beams.logprobs[i] as number);
          scores.push(beams.scores[i] as number);
        }
      }
      nextGroupRows.push(rows);
    }
    if (parents.length === 0) break;

    const parentAttention =
      attentionRows === null ? null : parents.map((row) => attentionRows[row] as Float32Array);
    histories.advance(parents, tokens, logprobs, parentAttention);
    groupRows = nextGroupRows;
    beamScores = Float64Array.from(scores);
    tokenIds = Int32Array.from(tokens);
    beamIndices = Int32Array.from(parents);

    // At max_new_tokens the running beams of unfinished groups become hypotheses of that length.
    if (generatedLength === maxNewTokens) {
      for (let group = 0; group < numBeamGroups; group++) {
        for (const row of groupRows[group] as number[]) {
          const finished: FinishedPath = {
            path: histories.snapshot(row, withAttention),
            finishReason: "length",
            endTokenId: null,
            endLogprob: null,
          };
          (hypotheses[group] as BeamHypotheses<FinishedPath>).add(
            beamScores[row] as number,
            maxNewTokens,
            finished,
          );
        }
      }
    }
  }

  return pickBest(hypotheses, options.numReturnSequences);
}

function collectCandidates(
  candidates: TopCandidates,
  logits: Float32Array,
  vocabSize: number,
  rows: readonly number[],
  beamScores: Float64Array,
  normalizers: Float64Array,
  diversity: HammingDiversity | null,
): void {
  candidates.clear();
  const penalised = diversity !== null && !diversity.isEmpty;

  let threshold = candidates.threshold;
  for (const row of rows) {
    const normalizer = normalizers[row] as number;
    if (normalizer === Number.NEGATIVE_INFINITY) continue; // every token of this row is masked

    // candidate score = beam score + log-softmax(logits)[token] - diversity penalty
    const offset = (beamScores[row] as number) - normalizer;
    const base = row * vocabSize;
    for (let token = 0; token < vocabSize; token++) {
      const logit = logits[base + token] as number;
      if (logit === Number.NEGATIVE_INFINITY) continue;

      let score = offset + logit;
      if (penalised) score -= (diversity as HammingDiversity).penaltyFor(token);
      if (score > threshold) {
        candidates.offer(score, row, token);
        threshold = candidates.threshold;
      }
    }
  }
}

/** Pools the groups' hypotheses and returns the best `count`, ordered as transformers' finalize does. */
function pickBest(hypotheses: BeamHypotheses<FinishedPath>[], count: number): GeneratedSequence[] {
  const pool = hypotheses.flatMap((group) => [...group.hypotheses]);
  // transformers sorts ascending (stable) and pops from the end, so on equal scores the later entry wins.
  pool.sort((a, b) => a.score - b.score);
  pool.reverse();

  return pool.slice(0, count).map(({ score, payload }) => ({
    tokenIds: payload.path.tokenIds,
    finishReason: payload.finishReason,
    endTokenId: payload.endTokenId,
    score,
    tokenLogprobs: payload.path.tokenLogprobs,
    endLogprob: payload.endLogprob,
    attention: payload.path.attention,
  }));
}
