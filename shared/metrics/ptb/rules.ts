// The rule table of the PTB lexer, in the priority order of CoreNLP 3.4.1's PTBLexer.flex. The
// options are those of the COCO caption evaluation: the PTBTokenizer defaults plus -preserveLines,
// so no americanize and no escaping of / and *. The scanner (lexer.ts) picks, as JFlex does, the
// rule with the longest match counting its trailing context, and the earliest rule on a tie.

import {
  ABBREVIATION_BEFORE_NAME,
  ABBREVIATION_BEFORE_NUMBER,
  ABBREVIATION_SENTENCE_FINAL,
  ACRO,
  APOSTROPHE,
  APOSTROPHE_WORDS,
  APOSTROPHE_YEAR,
  CLITIC,
  caseless,
  DASH_ENTITY_OR_CHAR,
  DATE,
  DIGIT,
  DOLLAR_SIGN,
  DOUBLE_QUOTE,
  ELLIPSES,
  EMAIL,
  FRACTION,
  FULL_URL,
  HYPHENATED_THING,
  IN_SENTENCE_PUNCTUATION,
  LETTER,
  LIKELY_URLS,
  MISC_SYMBOL,
  NEGATABLE_WORD,
  NEGATION,
  NEWLINE,
  NUMBER,
  OTHER_CURRENCY,
  PHONES,
  PUNCTUATION_ENTITY,
  QUOTES,
  SENTENCE_FINAL_PUNCTUATION,
  SGML,
  SKIPPED,
  SMILEY,
  SPACE,
  SPACE_OR_NEWLINE,
  SUBSUPNUM,
  THING,
  THING_AMPERSAND,
  THING_SLASH,
  TREEBANK_SPECIALS,
  TWITTER_CATEGORY,
  TWITTER_NAME,
  VULGAR_FRACTION,
  WORD,
} from "./patterns.ts";

/** One lexer rule: `token/context` in JFlex terms, compiled to a sticky regex `(token)(?:context)`. */
export interface LexerRule {
  readonly name: string;
  readonly regex: RegExp;
  /** How many code units of the token the rule consumes; the rest is scanned again (yypushback). */
  readonly keep?: (token: string) => number;
  /** The output token for the matched text, or null when the rule emits nothing. */
  readonly emit: (token: string) => string | null;
}

const NBSP = "\u00A0";

const asIs = (token: string): string => token;
const nothing = (): null => null;

function withoutSoftHyphens(token: string): string {
  if (token.indexOf("\u00AD") < 0) {
    return token;
  }
  const stripped = token.replaceAll("\u00AD", "");

  // The lexer never emits an empty token: a run of soft hyphens becomes a plain hyphen.
  return stripped.length === 0 ? "-" : stripped;
}

function decodeAmpersands(token: string): string {
  return token.replace(/&amp;/gi, "&");
}

function withNonBreakingSpaces(token: string): string {
  return token.replaceAll(" ", NBSP);
}

function escapeParentheses(token: string): string {
  return token.replaceAll("(", "-LRB-").replaceAll(")", "-RRB-");
}

/** LaTeX-style quotes: ` and `` open, ' and '' close; `probablyLeft` decides for ASCII quotes. */
function latexQuotes(token: string, probablyLeft: boolean): string {
  let out = probablyLeft
    ? token.replace(/&apos;|'/g, "`").replace(/"|&quot;/g, "``")
    : token.replace(/&apos;|'/g, "'").replace(/"|&quot;/g, "''");
  out = out.replace(/[\u0091\u2018\u201B\u2039]/g, "`");
  out = out.replace(/[\u0092\u2019\u203A]/g, "'");
  out = out.replace(/[\u0093\u201C\u00AB]/g, "``");
  out = out.replace(/[\u0094\u201D\u00BB]/g, "''");
  return out;
}

const openingQuote = (token: string): string => latexQuotes(token, true);
const closingQuote = (token: string): string => latexQuotes(token, false);

// NOTE: ⅔ (U+2154) maps to 2/3 here, as in later CoreNLP releases. Older PTBLexer sources map
// U+2153 twice and leave ⅔ unchanged; no golden string decides which one 3.4.1 shipped.
const VULGAR_FRACTIONS: Readonly<Record<string, string>> = {
  "\u00BC": "1/4",
  "\u00BD": "1/2",
  "\u00BE": "3/4",
  "\u2153": "1/3",
  "\u2154": "2/3",
};

function spellVulgarFraction(token: string): string {
  return VULGAR_FRACTIONS[token] ?? token;
}

/** PTB3 currency normalisation: only $, # and "cents" occur in the WSJ treebank. */
function normaliseCurrency(token: string): string {
  return token
    .replaceAll("\u00A2", "cents")
    .replaceAll("\u00A3", "#")
    .replace(/[\u0080\u00A4\u20A0\u20AC]/g, "$");
}

function dashesToPtb(token: string): string {
  return token.length >= 3 && token.length <= 4 ? "--" : token;
}

function rule(
  name: string,
  token: string,
  emit: (token: string) => string | null,
  options: { context?: string; keep?: (token: string) => number } = {},
): LexerRule {
  const context = options.context === undefined ? "" : `(?:${options.context})`;
  const compiled: LexerRule = { name, regex: new RegExp(`(${token})${context}`, "y"), emit };
  return options.keep === undefined ? compiled : { ...compiled, keep: options.keep };
}

const NOT_ASCII_LETTER = "[^A-Za-z]";
const ANY_TWO = "[\\s\\S][\\s\\S]";

/** Every rule of the lexer, highest priority first. */
export const LEXER_RULES: readonly LexerRule[] = [
  // "cannot" splits as can + not; the assimilations as gon + na, wan + na, got + ta, lem + me, gim + me.
  rule("cannot", caseless("cannot"), asIs, { keep: () => 3 }),
  rule(
    "assimilation",
    `(?:${["gonna", "gotta", "lemme", "gimme", "wanna"].map(caseless).join("|")})`,
    asIs,
    {
      keep: (token) => token.length - 2,
    },
  ),
  rule("sgml", SGML, withNonBreakingSpaces),
  rule("dash", DASH_ENTITY_OR_CHAR, () => "--"),
  rule("ampersand entity", caseless("&amp;"), decodeAmpersands),
  rule("punctuation entity", PUNCTUATION_ENTITY, asIs),
  rule("word before clitic", WORD, withoutSoftHyphens, { context: CLITIC }),
  rule("word before n't", NEGATABLE_WORD, withoutSoftHyphens, { context: NEGATION }),
  rule("word", WORD, withoutSoftHyphens),
  ...APOSTROPHE_WORDS.map((source) => rule("apostrophe word", source, asIs)),
  rule("y'", `[yY]${APOSTROPHE}`, asIs, { context: LETTER }),
  rule("full url", FULL_URL, asIs),
  ...LIKELY_URLS.map((source) => rule("likely url", source, asIs)),
  rule("email", EMAIL, asIs),
  rule("twitter name", TWITTER_NAME, asIs),
  rule("twitter category", TWITTER_CATEGORY, asIs),
  rule("clitic", CLITIC, closingQuote, { context: NOT_ASCII_LETTER }),
  rule("n't", NEGATION, closingQuote),
  rule("date", DATE, asIs),
  rule("number", NUMBER, withoutSoftHyphens),
  rule("superscript number", SUBSUPNUM, asIs),
  rule("fraction", FRACTION, withNonBreakingSpaces),
  rule("vulgar fraction", VULGAR_FRACTION, spellVulgarFraction),
  rule("treebank special", TREEBANK_SPECIALS, decodeAmpersands),
  rule("slash compound", THING_SLASH, asIs),
  rule("dollar sign", DOLLAR_SIGN, asIs),
  rule("other currency", OTHER_CURRENCY, normaliseCurrency),
  // The lexer's sentence-final variants of these rules only add a duplicate "." token after the
  // abbreviation, which the caption filter removes, so one rule per abbreviation class suffices.
  rule("abbreviation before number", ABBREVIATION_BEFORE_NUMBER, asIs, {
    context: `${SPACE_OR_NEWLINE}?${DIGIT}`,
  }),
  rule("company before ltd", `(?:${caseless("pt")}[eyEY]|${caseless("co")})\\.`, asIs, {
    context: `${SPACE}(?:${caseless("ltd")}|${caseless("lim")})`,
  }),
  rule("sentence-final abbreviation", ABBREVIATION_SENTENCE_FINAL, asIs, { context: ANY_TWO }),
  rule("sentence-final abbreviation at end", ABBREVIATION_SENTENCE_FINAL, asIs),
  rule("abbreviation before name", `${ABBREVIATION_BEFORE_NAME}\\.`, asIs),
  rule("abbreviation before space", ABBREVIATION_BEFORE_NAME, asIs, { context: SPACE }),
  rule("acronym before space", ACRO, asIs, { context: SPACE_OR_NEWLINE }),
  rule("apostrophe year", APOSTROPHE_YEAR, asIs, { context: SPACE_OR_NEWLINE }),
  rule("word with period before punctuation", `${WORD}\\.`, withoutSoftHyphens, {
    context: IN_SENTENCE_PUNCTUATION,
  }),
  ...PHONES.map((source) =>
    rule("phone", source, (token) => escapeParentheses(withNonBreakingSpaces(token))),
  ),
  rule("opening double quote", DOUBLE_QUOTE, openingQuote, { context: "[A-Za-z0-9$]" }),
  rule("closing double quote", DOUBLE_QUOTE, closingQuote),
  rule("less than", `<|${caseless("&lt;")}`, () => "<"),
  rule("greater than", `>|${caseless("&gt;")}`, () => ">"),
  rule("smiley", SMILEY, escapeParentheses, { context: NOT_ASCII_LETTER }),
  rule("left brace", "\\{", () => "-LCB-"),
  rule("right brace", "\\}", () => "-RCB-"),
  rule("left bracket", "\\[", () => "-LSB-"),
  rule("right bracket", "\\]", () => "-RSB-"),
  rule("left parenthesis", "\\(", () => "-LRB-"),
  rule("right parenthesis", "\\)", () => "-RRB-"),
  rule("hyphens", "-+", dashesToPtb),
  ...ELLIPSES.map((source) => rule("ellipsis", source, () => "...")),
  rule("footnote marks", "@+|#+|_+", asIs),
  rule("asterisks", "\\*+|(?:\\\\\\*){1,3}", asIs),
  rule("in-sentence punctuation", IN_SENTENCE_PUNCTUATION, asIs),
  rule("question and exclamation marks", "[?!]+", asIs),
  rule("sentence-final punctuation", SENTENCE_FINAL_PUNCTUATION, asIs),
  rule("equals sign", "=", asIs),
  rule("slash", "\\/", asIs),
  rule("hyphenated word with period", `${HYPHENATED_THING}\\.`, withoutSoftHyphens, {
    context: IN_SENTENCE_PUNCTUATION,
  }),
  rule("hyphenated word", HYPHENATED_THING, withoutSoftHyphens),
  rule("thing with period", `${THING}\\.`, asIs, { context: IN_SENTENCE_PUNCTUATION }),
  rule("thing", THING, asIs),
  rule("ampersand compound with period", `${THING_AMPERSAND}\\.`, decodeAmpersands, {
    context: IN_SENTENCE_PUNCTUATION,
  }),
  rule("ampersand compound", THING_AMPERSAND, decodeAmpersands),
  // A ' before a letter and a second non-space character opens a quotation (often, not always).
  rule("opening single quote", "'", openingQuote, { context: "[A-Za-z][^ \\t\\n\\r\\u00A0]" }),
  rule("clitic anywhere", CLITIC, closingQuote),
  rule("quotes", QUOTES, closingQuote),
  rule("duck feet", "<<|>>", asIs),
  rule("symbol", MISC_SYMBOL, asIs),
  rule("space", SKIPPED, nothing),
  rule("newline", NEWLINE, nothing),
  rule("nbsp entity", caseless("&nbsp;"), nothing),
  // Characters that no other rule matches (emoji halves, most control characters) are deleted.
  rule("untokenizable", "[^\\n]", nothing),
];
