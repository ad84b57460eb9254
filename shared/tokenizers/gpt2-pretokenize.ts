// Pre-tokenization of GPT-2's tokenizer (openai/gpt-2 src/encoder.py).
//
// The pattern is encoder.py's, with \s and \S spelled out as the Unicode White_Space characters
// that Python's `regex` module matches. JavaScript's \s adds U+FEFF and drops U+0085, which
// changes the ids of text that contains them (tokenizers.js 0.2.0's ByteLevel pre-tokenizer uses
// JavaScript's \s). Contractions stay case-sensitive, as in encoder.py.
const WHITESPACE =
  "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

const GPT2_PRETOKEN = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WHITESPACE}\\p{L}\\p{N}]+|[${WHITESPACE}]+(?![^${WHITESPACE}])|[${WHITESPACE}]+`,
  "gu",
);

/** Splits text into the words that GPT-2's byte-level BPE encodes one at a time. */
export function pretokenizeGpt2(text: string): string[] {
  return Array.from(text.matchAll(GPT2_PRETOKEN), (match) => match[0]);
}
