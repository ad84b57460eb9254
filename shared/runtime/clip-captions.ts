// CLIPScore of captions against image embeddings, shared by the edgecap and community CLIP models:
// embed the captions (and references) with the chosen prefix, then score.
import { type ClipScoreResult, scoreEmbeddings } from "../clip/score.ts";

export interface CaptionEmbedder {
  embedCaptions(texts: readonly string[], prefix?: string): Promise<Float32Array[]>;
}

/** Embeds one caption per image (and each image's references) and returns CLIPScore and RefCLIPScore. */
export async function scoreCaptionsWithClip(
  embedder: CaptionEmbedder,
  images: Float32Array[],
  captions: readonly string[],
  options: { references?: readonly (readonly string[])[]; prefix?: string } = {},
): Promise<ClipScoreResult> {
  const prefix = options.prefix ?? "";
  const captionEmbeddings = await embedder.embedCaptions(captions, prefix);

  let references: Float32Array[][] | undefined;
  if (options.references !== undefined) {
    // One batch for every reference, regrouped by image afterwards.
    const flat = await embedder.embedCaptions(options.references.flat(), prefix);
    references = [];
    let offset = 0;
    for (const group of options.references) {
      references.push(flat.slice(offset, offset + group.length));
      offset += group.length;
    }
  }
  return scoreEmbeddings({ images, captions: captionEmbeddings, references, prefix });
}
