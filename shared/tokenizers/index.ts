// Caption tokenizers (GPT-2 and CLIP) loaded from tokenizer.json; see docs/tokenizers.md.
export { BYTE_TO_UNICODE, tokenToBytes } from "./byte-level.ts";
export {
  CLIP_CONTEXT_LENGTH,
  CLIP_END_OF_TEXT_ID,
  CLIP_PAD_ID,
  CLIP_START_OF_TEXT_ID,
  type ClipEncodeOptions,
  type ClipTokenizer,
  loadClipTokenizer,
} from "./clip-context.ts";
export {
  type ClipCleaningStages,
  cleanClipText,
  cleanClipTextStages,
  pretokenizeClip,
} from "./clip-text.ts";
export { displayTexts } from "./display.ts";
export { fixText } from "./ftfy.ts";
export { pretokenizeGpt2 } from "./gpt2-pretokenize.ts";
export { type CaptionTokenizer, loadTokenizer, type TokenizerFamily } from "./tokenizer.ts";

/** GPT-2's end-of-text id, which the captioner also uses to start and stop generation. */
export const GPT2_END_OF_TEXT_ID = 50256;
