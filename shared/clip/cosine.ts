// Cosine similarity of two embeddings, accumulated in float64 whatever the input precision.

/** Returns cos(a, b) = a·b / (|a| |b|), computed in float64. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`embeddings must have the same length, got ${a.length} and ${b.length}`);
  }
  if (a.length === 0) {
    throw new RangeError("embeddings must not be empty");
  }

  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }

  if (!Number.isFinite(dot) || !Number.isFinite(normA) || !Number.isFinite(normB)) {
    throw new RangeError("embeddings must contain only finite values");
  }
  if (normA === 0 || normB === 0) {
    throw new RangeError("embeddings must not be all zeros: the cosine is undefined");
  }
  return dot / (Math.sqrt(normA) * Math.sqrt(normB));
}
