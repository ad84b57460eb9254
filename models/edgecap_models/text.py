"""Shared tokenizer instances and the few text helpers training and evaluation need."""

from functools import lru_cache

import torch

from .bpe import CLIP_CONTEXT_LENGTH, CLIPTokenizer, GPT2Tokenizer


@lru_cache(maxsize=1)
def gpt2_tokenizer() -> GPT2Tokenizer:
    return GPT2Tokenizer.from_vocab_dir()


@lru_cache(maxsize=1)
def clip_tokenizer() -> CLIPTokenizer:
    return CLIPTokenizer.from_vocab_dir()


@lru_cache(maxsize=65536)
def _encode_cached(text: str) -> tuple[int, ...]:
    return tuple(gpt2_tokenizer().encode(text))


def gpt2_encode(text: str) -> list[int]:
    """Return the GPT-2 ids of a caption, without begin or end tokens."""
    return list(_encode_cached(text))


def gpt2_decode(ids: list[int]) -> str:
    return gpt2_tokenizer().decode(ids)


def gpt2_token_texts(ids: list[int]) -> list[str]:
    """Return each token's own text (a partial UTF-8 character becomes U+FFFD)."""
    tokenizer = gpt2_tokenizer()
    return [tokenizer.token_bytes(i).decode("utf-8", errors="replace") for i in ids]


def clip_tokenize(texts: list[str], context_length: int = CLIP_CONTEXT_LENGTH) -> torch.Tensor:
    """Return CLIP ids (N, context_length): start, BPE ids, end, zero padding; long texts truncated."""
    tokenizer = clip_tokenizer()
    return torch.tensor([tokenizer.tokenize(t, context_length) for t in texts], dtype=torch.long)
