"""PyTorch recipe for edgecap's demo captioner: data, tokenizers, model, training and export."""
