"""Parity fixtures of the community-layout models: what PyTorch computes for fixed inputs.

The TypeScript runtime feeds the same inputs to the exported graphs and compares within 1e-4
(test/node/runtime/community*.test.ts). Logits rows keep their argmax, logsumexp, ten largest
entries and the values at fixed probe ids, because whole rows of 50257 values are too large.
"""

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .clip_model import CLIPModel
from .community_model import CommunityCaptioner
from .model import GPT2_END_OF_TEXT_ID

PROBE_IDS = [0, 1, 11, 13, 64, 257, 290, 1402, 2266, 3272, 4171, 7744, 10000, 30000, 50000, 50255, 50256]


def write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")


def vit_processor_pixels(path: Path, size: int) -> np.ndarray:
    """transformers ViTImageProcessor: PIL bilinear resize to size x size, x * (1/255) in float64,
    then (x - 0.5) / 0.5 in float32. Returns (1, 3, size, size) float32."""
    image = Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR)
    scaled = (np.asarray(image).astype(np.float64) * (1 / 255)).astype(np.float32)
    normalized = (scaled - np.float32(0.5)) / np.float32(0.5)
    return normalized.transpose(2, 0, 1)[None].astype(np.float32)


def _rounded(array) -> list:
    return np.asarray(array, dtype=np.float64).round(8).tolist()


def _logit_rows(logits: torch.Tensor) -> list[dict]:
    rows = []
    for row in logits.reshape(-1, logits.shape[-1]):
        top = row.topk(10)
        rows.append(
            {
                "argmax": int(row.argmax()),
                "logsumexp": float(torch.logsumexp(row.double(), 0)),
                "top_ids": top.indices.tolist(),
                "top_values": _rounded(top.values),
                "probe_values": _rounded(row[PROBE_IDS]),
            }
        )
    return rows


@torch.no_grad()
def write_captioner_fixture(model: CommunityCaptioner, image: Path, folder: Path) -> dict:
    """Fixture of the decoder fed step by step: the begin token without past, then one token, two
    tokens at once and one token, each on the presents of the step before (batch 1)."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = vit_processor_pixels(image, model.cfg.image_size)
    pixels.tofile(folder / "pixel_values.f32")
    hidden = model.encoder(torch.from_numpy(pixels))
    hidden.numpy().astype("<f4").tofile(folder / "last_hidden_state.f32")

    steps, past = [], None
    for ids in ([GPT2_END_OF_TEXT_ID], [64], [257, 290], [1402]):
        logits, presents, cross = model.decoder(torch.tensor([ids]), hidden, past)
        steps.append(
            {
                "input_ids": ids,
                "use_cache_branch": past is not None,
                "logits_shape": list(logits.shape),
                "logits": _logit_rows(logits),
                "present_shape": list(presents[0][0].shape),
                "cross_attentions": [_rounded(layer) for layer in cross],
            }
        )
        past = presents

    fixture = {
        "package": "community/vit-gpt2-tiny-random",
        "image": f"coco-mini/val2017/{image.name}",
        "tolerance": 1e-4,
        "pixel_values_shape": list(pixels.shape),
        "last_hidden_state_shape": list(hidden.shape),
        "probe_ids": PROBE_IDS,
        "steps": steps,
        "greedy": {"max_new_tokens": 12, "token_ids": model.greedy(torch.from_numpy(pixels), 12)},
    }
    write_json(folder / "fixture.json", fixture)
    return fixture


@torch.no_grad()
def write_clip_fixture(model: CLIPModel, folder: Path) -> dict:
    from .text import clip_tokenize

    folder.mkdir(parents=True, exist_ok=True)
    side = model.cfg.vision.image_size
    pixels = torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(3))
    pixels.numpy().astype("<f4").tofile(folder / "pixel_values.f32")
    texts = ["a dog on a beach", "two people riding bikes", "a plate of food"]
    ids = clip_tokenize(texts, model.cfg.text.context_length)
    fixture = {
        "package": "community/clip-tiny-random",
        "tolerance": 1e-4,
        "pixel_values_shape": list(pixels.shape),
        "image_embeds": _rounded(model.encode_image(pixels)),
        "texts": texts,
        "input_ids": ids.tolist(),
        "text_embeds": _rounded(model.encode_text(ids)),
    }
    write_json(folder / "fixture.json", fixture)
    return fixture
