// The CLIP model interface that the score pipeline calls. Callers with precomputed embeddings can
// implement it with a lookup.
// TODO: the ONNX CLIP model in the edge runtime does not implement it yet.

export interface ClipEmbedder {
  /**
   * Embeds `count` preprocessed images: float32 NCHW, [count, 3, 224, 224] for ViT-B/32,
   * normalised with CLIP's mean and standard deviation. Returns one embedding per image.
   */
  embedImages(pixels: Float32Array, count: number): Promise<Float32Array[]>;
  /** Embeds `count` CLIP token rows: int32, [count, 77]. Returns one embedding per row. */
  embedTexts(ids: Int32Array, count: number): Promise<Float32Array[]>;
}
