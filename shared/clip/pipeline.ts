// CLIPScore of captions against images through a ClipEmbedder: tokenise with the chosen prefix,
// embed, score.
import type { ClipTokenizer } from "../tokenizers/clip-context.ts";
import type { ClipEmbedder } from "./embedder.ts";
import { type ClipScoreResult, scoreEmbeddings } from "./score.ts";

export interface CaptionScoreRequest {
  /** Preprocessed images, float32 NCHW, `imageCount` images. */
  pixels: Float32Array;
  imageCount: number;
  /** One caption per image. */
  captions: readonly string[];
  /** Reference captions per image; enables RefCLIPScore. */
  references?: readonly (readonly string[])[];
}

export interface CaptionScoreOptions {
  /**
   * Text put before every caption and reference. Default "" (no prefix, as the DLCV 2024 HW3
   * evaluation does); CLIP_SCORE_PAPER_PREFIX gives Hessel et al.'s protocol.
   */
  prefix?: string;
}

function encodeRows(
  tokenizer: ClipTokenizer,
  texts: readonly string[],
  prefix: string,
): Int32Array {
  const rows = texts.map((text) => tokenizer.encodeClip(prefix + text, { truncate: true }));
  const width = rows[0]?.length ?? 0;
  const ids = new Int32Array(rows.length * width);
  rows.forEach((row, index) => {
    ids.set(row, index * width);
  });
  return ids;
}

/** Embeds images, captions and references with `embedder` and returns CLIPScore (and RefCLIPScore). */
export async function scoreCaptions(
  embedder: ClipEmbedder,
  tokenizer: ClipTokenizer,
  request: CaptionScoreRequest,
  options: CaptionScoreOptions = {},
): Promise<ClipScoreResult> {
  const prefix = options.prefix ?? "";
  if (request.captions.length !== request.imageCount) {
    throw new RangeError(
      `got ${request.imageCount} images but ${request.captions.length} captions; pass one caption per image`,
    );
  }

  const images = await embedder.embedImages(request.pixels, request.imageCount);
  const captions = await embedder.embedTexts(
    encodeRows(tokenizer, request.captions, prefix),
    request.captions.length,
  );

  let references: Float32Array[][] | undefined;
  if (request.references !== undefined) {
    // Embed every reference in one batch, then regroup them by image.
    const flat = request.references.flat();
    const embedded =
      flat.length > 0
        ? await embedder.embedTexts(encodeRows(tokenizer, flat, prefix), flat.length)
        : [];
    references = [];
    let offset = 0;
    for (const group of request.references) {
      references.push(embedded.slice(offset, offset + group.length));
      offset += group.length;
    }
  }

  return scoreEmbeddings({ images, captions, references, prefix });
}
