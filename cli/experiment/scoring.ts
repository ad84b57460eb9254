// Scores one (dataset, model, config) corpus: BLEU-1..4, ROUGE-L and CIDEr-D against the references
// as the COCO caption evaluation computes them, CLIPScore and RefCLIPScore with the experiment's
// CLIP model, and caption length. Runs only on whole corpora, because CIDEr-D's document
// frequencies come from all the evaluated references.
import { clipScore, refClipScore, referenceSimilarity } from "../../shared/clip/score.ts";
import { ptbTokenize } from "../../shared/metrics/ptb-tokenizer.ts";
import { scoreCaptions } from "../../shared/metrics/score.ts";
import { METRIC_IDS, type MetricValues } from "../../shared/report/schema.ts";
import type { DatasetImage } from "./dataset.ts";
import type { ClipModel } from "./models.ts";

/** Texts per embedTexts call, to bound the memory of one CLIP text batch. */
const TEXT_BATCH = 64;

export function emptyMetrics(): MetricValues {
  return Object.fromEntries(METRIC_IDS.map((id) => [id, null])) as MetricValues;
}

export interface CorpusScores {
  corpus: MetricValues;
  /** In the order of the images passed in. */
  perImage: MetricValues[];
  warnings: string[];
}

/** Embeddings of one CLIP model, cached per image and per reference list across configs and models. */
export class ClipScorer {
  readonly model: ClipModel;
  readonly prefix: string;
  readonly #images = new Map<string, Promise<Float32Array>>();
  readonly #references = new Map<string, Promise<Float32Array[]>>();

  constructor(model: ClipModel, prefix: string) {
    this.model = model;
    this.prefix = prefix;
  }

  /** `key` identifies the image across datasets; `read` loads its file on a cache miss. */
  imageEmbedding(key: string, read: () => Promise<Uint8Array>): Promise<Float32Array> {
    let embedding = this.#images.get(key);
    if (embedding === undefined) {
      embedding = read().then((bytes) => this.model.embedImage(bytes));
      this.#images.set(key, embedding);
    }
    return embedding;
  }

  referenceEmbeddings(key: string, references: readonly string[]): Promise<Float32Array[]> {
    let embeddings = this.#references.get(key);
    if (embeddings === undefined) {
      embeddings = this.embedTexts(references);
      this.#references.set(key, embeddings);
    }
    return embeddings;
  }

  /** Embeds texts with the prefix in front, in batches of TEXT_BATCH. */
  async embedTexts(texts: readonly string[]): Promise<Float32Array[]> {
    const embeddings: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += TEXT_BATCH) {
      const batch = texts.slice(start, start + TEXT_BATCH).map((text) => this.prefix + text);
      embeddings.push(...(await this.model.embedTexts(batch)));
    }
    return embeddings;
  }
}

export interface CorpusInput {
  datasetId: string;
  images: readonly DatasetImage[];
  /** The scored caption of each image, in the order of `images`. */
  captions: readonly string[];
  hasReferences: boolean;
  /** Reads an image file; null when the dataset has no image files. */
  readImage: ((image: DatasetImage) => Promise<Uint8Array>) | null;
}

/** Scores a corpus with every metric its data allows; the others stay null. */
export async function scoreCorpus(
  input: CorpusInput,
  clip: ClipScorer | null,
): Promise<CorpusScores> {
  const perImage = input.images.map(() => emptyMetrics());
  const corpus = emptyMetrics();
  const warnings: string[] = [];
  if (input.images.length === 0) return { corpus, perImage, warnings };

  input.captions.forEach((caption, i) => {
    (perImage[i] as MetricValues).length = countTokens(caption);
  });
  corpus.length = mean(perImage.map((values) => values.length as number));

  if (input.hasReferences) {
    const report = scoreCaptions({
      imageIds: input.images.map((image) => image.id),
      candidates: input.captions,
      references: input.images.map((image) => image.references),
    });
    report.perImage.forEach((scores, i) => {
      const values = perImage[i] as MetricValues;
      values.cider_d = scores.cider_d ?? null;
      values.rouge_l = scores.rouge_l ?? null;
      scores.bleu?.forEach((value, n) => {
        values[`bleu_${n + 1}` as "bleu_1"] = value;
      });
    });
    corpus.cider_d = report.corpus.cider_d ?? null;
    corpus.rouge_l = report.corpus.rouge_l ?? null;
    report.corpus.bleu?.forEach((value, n) => {
      corpus[`bleu_${n + 1}` as "bleu_1"] = value;
    });
    warnings.push(...report.warnings.map((warning) => warning.message));
  }

  if (clip !== null && input.readImage !== null) {
    const read = input.readImage;
    const captionEmbeddings = await clip.embedTexts(input.captions);
    for (let i = 0; i < input.images.length; i++) {
      const image = input.images[i] as DatasetImage;
      const key = `${input.datasetId}/${image.id}`;
      const imageEmbedding = await clip.imageEmbedding(key, () => read(image));
      const caption = captionEmbeddings[i] as Float32Array;
      const values = perImage[i] as MetricValues;
      values.clip_score = clipScore(imageEmbedding, caption);
      if (input.hasReferences) {
        const references = await clip.referenceEmbeddings(key, image.references);
        values.ref_clip_score = refClipScore(
          values.clip_score,
          referenceSimilarity(caption, references),
        );
      }
    }
    corpus.clip_score = mean(perImage.map((values) => values.clip_score as number));
    if (input.hasReferences)
      corpus.ref_clip_score = mean(perImage.map((values) => values.ref_clip_score as number));
  }

  return { corpus, perImage, warnings };
}

/** Caption length in PTB tokens after the punctuation filter, the tokens BLEU and CIDEr-D count. */
export function countTokens(caption: string): number {
  const tokens = ptbTokenize(caption);
  return tokens === "" ? 0 : tokens.split(" ").length;
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}
