// Token interning and the two ways the reference scorers split a caption into tokens.

/**
 * Tests whether a UTF-16 code unit is whitespace for Python's `str.split()` (Python 3.11,
 * Unicode 14): bidirectional classes WS, B and S plus category Zs. The JavaScript `\s` class
 * differs, because it contains U+FEFF but lacks U+001C..U+001F and U+0085.
 */
export function isPythonWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d) || code >= 0x1c;
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/**
 * Maps token strings to dense integer ids, in first-seen order. Tokens are looked up by a range of
 * a larger string, so known tokens cost no substring allocation: an open-addressing table of ids
 * keyed by an FNV-1a hash of the UTF-16 code units, with a character comparison on hash equality.
 */
export class Vocabulary {
  readonly words: string[] = [];
  private hashes = new Int32Array(1024);
  private slots: Int32Array;
  private mask: number;

  constructor(expectedSize = 1024) {
    let capacity = 16;
    while (capacity < expectedSize * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.words.length;
  }

  /** Returns the id of `word`, adding it when it is new. */
  intern(word: string): number {
    return this.internRange(word, 0, word.length);
  }

  /** Returns the id of text[start..end), adding it when it is new. */
  internRange(text: string, start: number, end: number): number {
    return this.internHashed(text, start, end, finishHash(hashRange(text, start, end)));
  }

  /** internRange with the finished hash of text[start..end) already computed by the caller. */
  internHashed(text: string, start: number, end: number, hash: number): number {
    let slot = hash & this.mask;
    for (;;) {
      const id = this.slots[slot] as number;
      if (id < 0) break;
      if (this.hashes[id] === hash && equalsRange(this.words[id] as string, text, start, end))
        return id;
      slot = (slot + 1) & this.mask;
    }

    const id = this.words.length;
    this.words.push(text.slice(start, end));
    if (id === this.hashes.length) this.hashes = growInt32(this.hashes, id * 2);
    this.hashes[id] = hash;
    this.slots[slot] = id;
    if (this.words.length * 2 > this.mask + 1) this.rehash();
    return id;
  }

  /** Returns the id of `word`, or -1 when it is not in the vocabulary. */
  find(word: string): number {
    const hash = finishHash(hashRange(word, 0, word.length));
    let slot = hash & this.mask;
    for (;;) {
      const id = this.slots[slot] as number;
      if (id < 0) return -1;
      if (this.hashes[id] === hash && this.words[id] === word) return id;
      slot = (slot + 1) & this.mask;
    }
  }

  private rehash(): void {
    const capacity = (this.mask + 1) * 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(-1);
    for (let id = 0; id < this.words.length; id++) {
      let slot = (this.hashes[id] as number) & this.mask;
      while (this.slots[slot] !== -1) slot = (slot + 1) & this.mask;
      this.slots[slot] = id;
    }
  }
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over UTF-16 code units, before finishHash. */
function hashRange(text: string, start: number, end: number): number {
  let hash = FNV_OFFSET;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return hash;
}

/** FNV-1a mixes the low bits poorly for short keys, so finish with the murmur3 avalanche. */
function finishHash(hash: number): number {
  let mixed = hash ^ (hash >>> 16);
  mixed = Math.imul(mixed, 0x85ebca6b);
  return mixed ^ (mixed >>> 13);
}

function equalsRange(word: string, text: string, start: number, end: number): boolean {
  if (word.length !== end - start) return false;
  for (let i = 0; i < word.length; i++) {
    if (word.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
  }
  return true;
}

/**
 * Splits `text` like Python's `str.split()` (runs of whitespace separate tokens, and leading or
 * trailing whitespace yields no empty token) and writes the token ids into `out`, which grows when
 * needed. Returns the token array, which may be a new, larger array, and stores the count in
 * `result.length`.
 */
export function internWhitespaceTokens(
  text: string,
  vocabulary: Vocabulary,
  out: Int32Array<ArrayBuffer>,
  result: { length: number },
): Int32Array<ArrayBuffer> {
  let tokens = out;
  let count = 0;
  let start = -1;
  let hash = FNV_OFFSET;
  const end = text.length;

  // One pass: find token boundaries and hash each token's code units on the way.
  for (let i = 0; i <= end; i++) {
    const code = i === end ? 0x20 : text.charCodeAt(i);
    if (isPythonWhitespace(code)) {
      if (start >= 0) {
        if (count === tokens.length) tokens = growInt32(tokens, count * 2);
        tokens[count++] = vocabulary.internHashed(text, start, i, finishHash(hash));
        start = -1;
      }
    } else {
      if (start < 0) {
        start = i;
        hash = FNV_OFFSET;
      }
      hash = Math.imul(hash ^ code, FNV_PRIME);
    }
  }

  result.length = count;
  return tokens;
}

/** Copies `array` into a new Int32Array of at least `minLength` elements. */
export function growInt32(array: Int32Array, minLength: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(Math.max(minLength, array.length * 2, 16));
  grown.set(array);
  return grown;
}

/** Copies `array` into a new Float64Array of at least `minLength` elements. */
export function growFloat64(array: Float64Array, minLength: number): Float64Array<ArrayBuffer> {
  const grown = new Float64Array(Math.max(minLength, array.length * 2, 16));
  grown.set(array);
  return grown;
}
