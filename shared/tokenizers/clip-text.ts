// Text cleaning and pre-tokenization of CLIP's tokenizer (openai/CLIP simple_tokenizer.py).
import { fixText } from "./ftfy.ts";
import { unescapeHtml } from "./html-unescape.ts";

/** The cleaning stages of simple_tokenizer.py, each applied to the output of the previous one. */
export interface ClipCleaningStages {
  /** Output of ftfy.fix_text. */
  ftfyFixed: string;
  /** HTML references decoded twice more, then trimmed (basic_clean). */
  basicCleaned: string;
  /** Whitespace runs collapsed to one space, then trimmed (whitespace_clean). */
  whitespaceCleaned: string;
  /** Lowercased: the text that the split pattern runs on. */
  cleaned: string;
}

// Whitespace as Python defines it. str.strip() removes the str.isspace() characters: Unicode
// White_Space plus U+001C..U+001F. The `regex` module's \s is White_Space alone. JavaScript's \s
// adds U+FEFF and drops U+0085, so both classes are spelled out.
const PYTHON_WHITESPACE =
  "\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const REGEX_WHITESPACE_RUN =
  /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
const PYTHON_STRIP = new RegExp(`^[${PYTHON_WHITESPACE}]+|[${PYTHON_WHITESPACE}]+$`, "g");

function pythonStrip(text: string): string {
  return text.replace(PYTHON_STRIP, "");
}

/** Runs the cleaning of simple_tokenizer.py and returns every stage. */
export function cleanClipTextStages(text: string): ClipCleaningStages {
  const ftfyFixed = fixText(text);
  const basicCleaned = pythonStrip(unescapeHtml(unescapeHtml(ftfyFixed)));
  // `regex.sub(r'\s+', ' ', ...)` uses the `regex` module, whose \s (unlike str.strip) leaves
  // U+001C..U+001F alone.
  const whitespaceCleaned = pythonStrip(basicCleaned.replace(REGEX_WHITESPACE_RUN, " "));
  return { ftfyFixed, basicCleaned, whitespaceCleaned, cleaned: whitespaceCleaned.toLowerCase() };
}

/** Cleans text like simple_tokenizer.py before it splits the text into words. */
export function cleanClipText(text: string): string {
  return cleanClipTextStages(text).cleaned;
}

// simple_tokenizer.py's split pattern, compiled there with IGNORECASE. With the `i` and `u` flags
// JavaScript folds case like Python's `regex` module here: "<|ENDOFTEXT|>" matches, and `'s`
// also matches "'ſ" (U+017F), which lowercasing leaves in place.
const CLIP_PRETOKEN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** Splits cleaned text into CLIP's words; special-token text comes out as its own word. */
export function pretokenizeClip(cleaned: string): string[] {
  return Array.from(cleaned.matchAll(CLIP_PRETOKEN), (match) => match[0]);
}
