"""Parity fixtures: what PyTorch computes for fixed inputs, step by step through the package interface.

A TypeScript runtime proves it reproduces the exported model by feeding the same inputs to the
package's ONNX graphs and comparing within 1e-4. Layout of `<fixtures>/<package id>/`:
- fixture.json: the package id, the inputs and the expected outputs described below;
- pixel_values.f32: float32 little-endian (B, 3, H, W), already preprocessed;
- prefix_embeds.f32 (captioner) / image_embeds are inline (CLIP).
Captioner steps: step 0 feeds prefix_embeds and the begin token with an empty past; later steps
feed only new token ids (prefix length 0) with the previous presents, one step with two tokens.
Logits are too large to store whole (50257 per row), so each row keeps its argmax, its
logsumexp, its ten largest entries and the values at fixed probe ids.
"""

import json
from pathlib import Path

import numpy as np
import torch

from .clip_model import CLIPModel
from .data import build_split, normalize
from .model import GPT2_END_OF_TEXT_ID, Captioner
from .text import clip_tokenize, gpt2_encode

REPO_ROOT = Path(__file__).resolve().parents[2]
PROBE_IDS = [0, 1, 11, 13, 64, 257, 290, 1402, 2266, 3272, 4171, 7744, 10000, 30000, 50000, 50255, 50256]
FIXTURE_IMAGES = 2  # test-split scenes 0 and 1


def _pixels(image_size: int, grid: int) -> tuple[torch.Tensor, list[str]]:
    test = build_split("test", FIXTURE_IMAGES, image_size, grid, None)
    return normalize(test["images"]), [str(n) for n in test["names"]]


def _repo_relative(path: Path) -> str:
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else str(resolved)


def _rounded(array) -> list:
    return np.asarray(array, dtype=np.float64).round(8).tolist()


def _logit_summary(logits: torch.Tensor) -> list[dict]:
    rows = []
    for row in logits:
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
def write_captioner_fixture(model: Captioner, package_dir: Path, fixtures_root: Path, package_id: str) -> Path:
    model.eval()
    cfg = model.cfg
    folder = Path(fixtures_root) / package_id
    folder.mkdir(parents=True, exist_ok=True)
    pixels, names = _pixels(cfg.vit.image_size, cfg.vit.grid_size)
    pixels.numpy().astype("<f4").tofile(folder / "pixel_values.f32")
    prefix = model.encode_image(pixels)  # (B, 197, D)
    prefix.numpy().astype("<f4").tofile(folder / "prefix_embeds.f32")

    B = pixels.shape[0]
    a, red, circle = gpt2_encode("a red circle")
    schedule = [
        {"prefix": True, "input_ids": [[GPT2_END_OF_TEXT_ID]] * B},
        {"prefix": False, "input_ids": [[a]] * B},
        {"prefix": False, "input_ids": [[red, circle], [circle, red]]},
        {"prefix": False, "input_ids": [[GPT2_END_OF_TEXT_ID]] * B},
    ]
    empty = [torch.zeros(B, cfg.gpt2.n_head, 0, cfg.gpt2.n_embd // cfg.gpt2.n_head)] * 2
    past = [tuple(empty) for _ in range(cfg.gpt2.n_layer)]
    steps = []
    for entry in schedule:
        step_prefix = prefix if entry["prefix"] else prefix[:, :0]
        input_ids = torch.tensor(entry["input_ids"], dtype=torch.long)
        logits, presents, prefix_attention = model.decode_step(step_prefix, input_ids, past)
        steps.append(
            {
                "prefix_length": step_prefix.shape[1],
                "past_length": past[0][0].shape[2],
                "input_ids": entry["input_ids"],
                "logits_shape": list(logits.shape),
                "logits": _logit_summary(logits),
                "present_shape": list(presents[0][0].shape),
                "prefix_attention_shape": list(prefix_attention.shape),
                "prefix_attention": _rounded(prefix_attention),
            }
        )
        past = presents
    fixture = {
        "package": package_id,
        "package_dir": _repo_relative(package_dir),
        "images": names,
        "pixel_values": {"file": "pixel_values.f32", "shape": list(pixels.shape), "dtype": "float32"},
        "prefix_embeds": {"file": "prefix_embeds.f32", "shape": list(prefix.shape), "dtype": "float32"},
        "probe_ids": PROBE_IDS,
        "steps": steps,
        "tolerance": 1e-4,
    }
    (folder / "fixture.json").write_text(json.dumps(fixture) + "\n")
    return folder


@torch.no_grad()
def write_clip_fixture(model: CLIPModel, package_dir: Path, fixtures_root: Path, package_id: str) -> Path:
    model.eval()
    cfg = model.cfg
    folder = Path(fixtures_root) / package_id
    folder.mkdir(parents=True, exist_ok=True)
    pixels, names = _pixels(cfg.vision.image_size, cfg.vision.grid_size)
    pixels.numpy().astype("<f4").tofile(folder / "pixel_values.f32")
    image = torch.nn.functional.normalize(model.encode_image(pixels), dim=-1)
    texts = ["a red circle", "two small blue squares on a striped background", "a picture of a green star"]
    ids = clip_tokenize(texts, cfg.text.context_length)
    text = torch.nn.functional.normalize(model.encode_text(ids), dim=-1)
    fixture = {
        "package": package_id,
        "package_dir": _repo_relative(package_dir),
        "images": names,
        "pixel_values": {"file": "pixel_values.f32", "shape": list(pixels.shape), "dtype": "float32"},
        "image_embeds": _rounded(image),
        "texts": texts,
        "input_ids": ids.tolist(),
        "text_embeds": _rounded(text),
        "cosine": _rounded(image @ text.t()),
        "tolerance": 1e-4,
    }
    (folder / "fixture.json").write_text(json.dumps(fixture) + "\n")
    return folder
