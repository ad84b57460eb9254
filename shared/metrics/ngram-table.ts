// Interns n-grams of token ids as dense integer ids, so that the scorers count and weight n-grams
// in typed arrays instead of string-keyed maps.
//
// An n-gram of order k > 1 is keyed by the pair (id of its first k-1 tokens, id of its last token),
// and a unigram by (ROOT, token id). Walking the tokens left to right therefore interns every
// n-gram with one hash probe, and two n-grams share an id exactly when their token tuples are equal.

import { growInt32 } from "./vocabulary.ts";

/** Prefix id of unigrams. */
export const ROOT = -1;

const EMPTY = -1;

export class NgramTable {
  /** Order (1..4) of each n-gram id. */
  order: Uint8Array;
  /** Id of the n-gram without its last token, or ROOT for unigrams. */
  prefix: Int32Array;
  /** Token id of the last token. */
  lastToken: Int32Array;
  size = 0;

  // Open addressing with linear probing over a power-of-two number of slots, kept at most half full.
  // A slot stores id + 1, so 0 marks a free slot and a fresh zero-filled array is empty. Keys are
  // compared through prefix[id] and lastToken[id].
  private slots: Int32Array;
  private mask: number;
  // Unigram ids indexed by token id (EMPTY when not interned yet), which skips the hash probe.
  private unigram = new Int32Array(1024).fill(EMPTY);

  constructor(expectedSize = 1024) {
    let capacity = 16;
    while (capacity < expectedSize * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity);
    this.order = new Uint8Array(expectedSize);
    this.prefix = new Int32Array(expectedSize);
    this.lastToken = new Int32Array(expectedSize);
  }

  /** Returns the id of the n-gram (prefix, token), adding it when it is new. */
  intern(prefix: number, token: number): number {
    if (prefix === ROOT && token < this.unigram.length) {
      const id = this.unigram[token] as number;
      if (id !== EMPTY) return id;
    }

    const slots = this.slots;
    let slot = hashPair(prefix, token) & this.mask;
    for (;;) {
      const stored = slots[slot] as number;
      if (stored === 0) break;
      if (this.prefix[stored - 1] === prefix && this.lastToken[stored - 1] === token)
        return stored - 1;
      slot = (slot + 1) & this.mask;
    }

    const id = this.size++;
    slots[slot] = id + 1;
    if (id === this.order.length) this.growEntries();
    this.order[id] = prefix === ROOT ? 1 : (this.order[prefix] as number) + 1;
    this.prefix[id] = prefix;
    this.lastToken[id] = token;
    if (prefix === ROOT) this.rememberUnigram(token, id);
    if (this.size * 2 > this.mask + 1) this.rehash();
    return id;
  }

  /** Returns the id of the n-gram (prefix, token), or -1 when it is not in the table. */
  find(prefix: number, token: number): number {
    let slot = hashPair(prefix, token) & this.mask;
    for (;;) {
      const stored = this.slots[slot] as number;
      if (stored === 0) return -1;
      if (this.prefix[stored - 1] === prefix && this.lastToken[stored - 1] === token)
        return stored - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  private rememberUnigram(token: number, id: number): void {
    if (token >= this.unigram.length) {
      const grown = new Int32Array(Math.max(token + 1, this.unigram.length * 2)).fill(EMPTY);
      grown.set(this.unigram);
      this.unigram = grown;
    }
    this.unigram[token] = id;
  }

  private growEntries(): void {
    const order = new Uint8Array(this.order.length * 2);
    order.set(this.order);
    this.order = order;
    this.prefix = growInt32(this.prefix, this.prefix.length * 2);
    this.lastToken = growInt32(this.lastToken, this.lastToken.length * 2);
  }

  private rehash(): void {
    const capacity = (this.mask + 1) * 2;
    this.mask = capacity - 1;
    const slots = new Int32Array(capacity);

    for (let id = 0; id < this.size; id++) {
      const prefix = this.prefix[id] as number;
      const token = this.lastToken[id] as number;
      let slot = hashPair(prefix, token) & this.mask;
      while (slots[slot] !== 0) slot = (slot + 1) & this.mask;
      slots[slot] = id + 1;
    }
    this.slots = slots;
  }
}

/** Mixes two 32-bit ints into a well-spread 32-bit hash (multiply-xorshift, murmur3 finalizer). */
function hashPair(prefix: number, token: number): number {
  let h = Math.imul(prefix + 1, 0x9e3779b1) ^ Math.imul(token, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 13;
  return h;
}
