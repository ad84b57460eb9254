"""Export trained (or tiny random) models to edgecap model packages (`edgecap.model-package/v1`).

A captioner package contains vision.onnx, decoder.onnx, tokenizer.json and manifest.json; a CLIP
package contains image.onnx, text.onnx, tokenizer.json and manifest.json. docs/model-package.md
describes every field and graph. LoRA is merged into the decoder weights except on the tied
lm_head, whose factors stay in the graph (logits = h wte^T + scale (h A^T) B^T), so the
50257-row table is stored once. Vocabulary tables are stored as per-row int8, other large
tensors as fp16 (onnx_storage.py); the PyTorch weights are rounded the same way first, and the
metrics of record are measured on those rounded weights.

    /usr/bin/python3 -m edgecap_models.export captioner --checkpoint models/work/captioner_r16_a32.pt \
        --out models/packages/demo-captioner
    /usr/bin/python3 -m edgecap_models.export clip --checkpoint models/work/clip.pt --out models/packages/demo-clip
    /usr/bin/python3 -m edgecap_models.export tiny-random --out test/fixtures/packages
"""

import argparse
import hashlib
import json
import shutil
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .clip_model import CLIP_END_ID, CLIP_START_ID, CLIPConfig, CLIPModel, CLIPTextConfig
from .data import Preprocessing
from .lora import LoRAConfig, LoRALinear, apply_lora, merge_lora
from .model import GPT2_END_OF_TEXT_ID, Captioner, CaptionerConfig, GPT2Config, ViTConfig
from .onnx_storage import compress_initializers, round_for_storage

SCHEMA = "edgecap.model-package/v1"
OPSET = 17
MODELS_DIR = Path(__file__).resolve().parents[1]
TOKENIZERS = {"gpt2": MODELS_DIR / "tokenizers" / "gpt2", "clip": MODELS_DIR / "tokenizers" / "clip"}


class VisionGraph(nn.Module):
    """pixel_values (B, 3, H, W) -> prefix_embeds (B, 197, D), projection included."""

    def __init__(self, captioner: Captioner):
        super().__init__()
        self.captioner = captioner

    def forward(self, pixel_values):
        return self.captioner.encode_image(pixel_values)


class DecoderGraph(nn.Module):
    """One decoding step with explicit past keys and values (see Captioner.decode_step)."""

    def __init__(self, captioner: Captioner):
        super().__init__()
        self.captioner = captioner

    def forward(self, prefix_embeds, input_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents, prefix_attention = self.captioner.decode_step(prefix_embeds, input_ids, past)
        flat = [t for kv in presents for t in kv]
        return (logits, *flat, prefix_attention)


class CLIPImageGraph(nn.Module):
    def __init__(self, clip: CLIPModel):
        super().__init__()
        self.clip = clip

    def forward(self, pixel_values):
        return F.normalize(self.clip.encode_image(pixel_values), dim=-1)


class CLIPTextGraph(nn.Module):
    def __init__(self, clip: CLIPModel):
        super().__init__()
        self.clip = clip

    def forward(self, input_ids):
        return F.normalize(self.clip.encode_text(input_ids), dim=-1)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_table(folder: Path, names: list[str]) -> dict:
    return {name: {"sha256": sha256_of(folder / name), "bytes": (folder / name).stat().st_size} for name in names}


def decoder_io_names(n_layer: int) -> tuple[list[str], list[str]]:
    past = [f"past_key_values.{i}.{kv}" for i in range(n_layer) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(n_layer) for kv in ("key", "value")]
    return ["prefix_embeds", "input_ids", *past], ["logits", *present, "prefix_attention"]


def prepare_captioner(model: Captioner) -> dict:
    """Merge LoRA where possible, round weights to their stored precision; return a storage note."""
    model.eval()
    kept = merge_lora(model)
    round_for_storage(model, int8_rows=(model.gpt2.transformer.wte.weight,))
    lm_head = model.gpt2.lm_head
    return {
        "lora_merged": True,
        "lora_unmerged_modules": kept,
        "lm_head": (
            f"tied to wte; LoRA rank {lm_head.rank} factors kept in the graph (scale {lm_head.scale:g})"
            if isinstance(lm_head, LoRALinear)
            else "tied to wte"
        ),
    }


@torch.no_grad()
def export_captioner(
    model: Captioner, out: Path, model_id: str, extra_manifest: dict | None = None, preprocessing: dict | None = None
) -> dict:
    """Write vision.onnx, decoder.onnx, tokenizer.json and manifest.json for a prepared captioner.

    preprocessing: the manifest's preprocessing block; defaults to the demo's (CLIP mean and std).
    """
    cfg = model.cfg
    out.mkdir(parents=True, exist_ok=True)
    g, v = cfg.gpt2, cfg.vit
    hs = g.n_embd // g.n_head

    pixels = torch.randn(2, 3, v.image_size, v.image_size)
    torch.onnx.export(
        VisionGraph(model), (pixels,), str(out / "vision.onnx"), opset_version=OPSET,
        input_names=["pixel_values"], output_names=["prefix_embeds"],
        dynamic_axes={"pixel_values": {0: "batch"}, "prefix_embeds": {0: "batch"}},
        do_constant_folding=False,
    )  # fmt: skip
    vision_storage = compress_initializers(str(out / "vision.onnx"))

    # Trace with a non-empty past and several new tokens, so no size is specialised to 0 or 1.
    prefix = torch.randn(2, model.prefix_length, g.n_embd)
    input_ids = torch.tensor([[GPT2_END_OF_TEXT_ID, 64], [GPT2_END_OF_TEXT_ID, 257]])
    past = [torch.randn(2, g.n_head, 3, hs) for _ in range(2 * g.n_layer)]
    inputs, outputs = decoder_io_names(g.n_layer)
    dynamic = {"prefix_embeds": {0: "batch", 1: "prefix_length"}, "input_ids": {0: "batch", 1: "new_tokens"}}
    for name in inputs[2:]:
        dynamic[name] = {0: "batch", 2: "past_length"}
    for name in outputs[1:-1]:
        dynamic[name] = {0: "batch", 2: "total_length"}
    dynamic["logits"] = {0: "batch"}
    dynamic["prefix_attention"] = {1: "batch", 2: "new_tokens"}
    torch.onnx.export(
        DecoderGraph(model), (prefix, input_ids, *past), str(out / "decoder.onnx"), opset_version=OPSET,
        input_names=inputs, output_names=outputs, dynamic_axes=dynamic, do_constant_folding=False,
    )  # fmt: skip
    wte = model.gpt2.transformer.wte.weight.detach().numpy()
    decoder_storage = compress_initializers(str(out / "decoder.onnx"), int8_rows={"wte": wte})

    shutil.copyfile(TOKENIZERS["gpt2"] / "tokenizer.json", out / "tokenizer.json")
    files = ["vision.onnx", "decoder.onnx", "tokenizer.json"]
    manifest = {
        "schema": SCHEMA,
        "id": model_id,
        "kind": "captioner",
        "family": "prefix-gpt2",
        "preprocessing": preprocessing or Preprocessing(size=v.image_size).manifest(),
        "tokenizer": {
            "file": "tokenizer.json",
            "type": "gpt2-byte-level-bpe",
            "vocab_size": g.vocab_size,
            "bos_token_id": GPT2_END_OF_TEXT_ID,
            "eos_token_id": GPT2_END_OF_TEXT_ID,
            "pad_token_id": GPT2_END_OF_TEXT_ID,
        },
        "prefix": {
            "length": model.prefix_length,
            "cls_tokens": 1,
            "grid": {"rows": v.grid_size, "cols": v.grid_size},
            "patch_size": v.patch_size,
            "order": "CLS, then patches row-major from the top-left",
        },
        "vision": {
            "file": "vision.onnx",
            "inputs": {"pixel_values": ["batch", 3, v.image_size, v.image_size]},
            "outputs": {"prefix_embeds": ["batch", model.prefix_length, g.n_embd]},
            "encoder": vit_manifest(v),
            "projection": cfg.projection,
        },
        "decoder": {
            "file": "decoder.onnx",
            "num_layers": g.n_layer,
            "num_heads": g.n_head,
            "head_dim": hs,
            "hidden_size": g.n_embd,
            "vocab_size": g.vocab_size,
            "max_positions": g.n_positions,
            "inputs": {
                "prefix_embeds": ["batch", "prefix_length", g.n_embd],
                "input_ids": ["batch", "new_tokens"],
                "past_key_values.{layer}.key": ["batch", g.n_head, "past_length", hs],
                "past_key_values.{layer}.value": ["batch", g.n_head, "past_length", hs],
            },
            "outputs": {
                "logits": ["batch", g.vocab_size],
                "present.{layer}.key": ["batch", g.n_head, "past_length + prefix_length + new_tokens", hs],
                "present.{layer}.value": ["batch", g.n_head, "past_length + prefix_length + new_tokens", hs],
                "prefix_attention": [g.n_layer, "batch", "new_tokens", model.prefix_length],
            },
            "logits_position": "last",
        },
        "attention": {
            "output": "prefix_attention",
            "heads": "mean",
            "layers": list(range(g.n_layer)),
            "keys": f"sequence positions 0..{model.prefix_length - 1} (the prefix, CLS first)",
            "token_row": "the row computed in the step whose logits chose the token",
        },
        "generation": {"begin_token_id": GPT2_END_OF_TEXT_ID, "end_token_id": GPT2_END_OF_TEXT_ID,
                       "max_new_tokens": cfg.max_caption_tokens},  # fmt: skip
        "storage": {"vision": vision_storage, "decoder": decoder_storage},
        **(extra_manifest or {}),
    }
    manifest["files"] = file_table(out, files)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def prepare_clip(model: CLIPModel) -> None:
    model.eval()
    round_for_storage(model, int8_rows=(model.token_embedding.weight,))


@torch.no_grad()
def export_clip(model: CLIPModel, out: Path, model_id: str, extra_manifest: dict | None = None) -> dict:
    """Write image.onnx, text.onnx, tokenizer.json and manifest.json for a prepared CLIP model."""
    cfg = model.cfg
    out.mkdir(parents=True, exist_ok=True)
    v, t = cfg.vision, cfg.text
    torch.onnx.export(
        CLIPImageGraph(model), (torch.randn(2, 3, v.image_size, v.image_size),), str(out / "image.onnx"),
        opset_version=OPSET, input_names=["pixel_values"], output_names=["image_embeds"],
        dynamic_axes={"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}}, do_constant_folding=False,
    )  # fmt: skip
    image_storage = compress_initializers(str(out / "image.onnx"))
    ids = torch.zeros(2, t.context_length, dtype=torch.long)
    ids[:, 0], ids[0, 1:4], ids[0, 4], ids[1, 1], ids[1, 2] = CLIP_START_ID, 320, CLIP_END_ID, 320, CLIP_END_ID
    torch.onnx.export(
        CLIPTextGraph(model), (ids,), str(out / "text.onnx"), opset_version=OPSET,
        input_names=["input_ids"], output_names=["text_embeds"],
        dynamic_axes={"input_ids": {0: "batch"}, "text_embeds": {0: "batch"}}, do_constant_folding=False,
    )  # fmt: skip
    table = model.token_embedding.weight.detach().numpy()
    text_storage = compress_initializers(str(out / "text.onnx"), int8_rows={"token_embedding": table})
    shutil.copyfile(TOKENIZERS["clip"] / "tokenizer.json", out / "tokenizer.json")
    manifest = {
        "schema": SCHEMA,
        "id": model_id,
        "kind": "clip",
        "family": "clip-dual-encoder",
        "preprocessing": Preprocessing(size=v.image_size).manifest(),
        "tokenizer": {
            "file": "tokenizer.json",
            "type": "clip-bpe",
            "vocab_size": t.vocab_size,
            "context_length": t.context_length,
            "bos_token_id": CLIP_START_ID,
            "eos_token_id": CLIP_END_ID,
            "pad_token_id": 0,
            "truncation": "keep the end token as the last token",
        },
        "image": {
            "file": "image.onnx",
            "inputs": {"pixel_values": ["batch", 3, v.image_size, v.image_size]},
            "outputs": {"image_embeds": ["batch", cfg.embed_dim]},
            "encoder": vit_manifest(v),
        },
        "text": {
            "file": "text.onnx",
            "inputs": {"input_ids": ["batch", t.context_length]},
            "outputs": {"text_embeds": ["batch", cfg.embed_dim]},
            "encoder": asdict(t),
            "pooling": "end token (position of the highest id)",
        },
        "embeddings": {"dim": cfg.embed_dim, "normalized": True},
        "logit_scale": float(model.logit_scale.exp()),
        "storage": {"image": image_storage, "text": text_storage},
        **(extra_manifest or {}),
    }
    manifest["files"] = file_table(out, ["image.onnx", "text.onnx", "tokenizer.json"])
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_captioner(checkpoint: Path) -> tuple[Captioner, dict]:
    from .train_captioner import build_captioner

    saved = torch.load(checkpoint, map_location="cpu")
    model = build_captioner(saved["config"], LoRAConfig(**saved["lora"]))
    model.load_state_dict(saved["state_dict"])
    return model, saved


def load_clip(checkpoint: Path) -> CLIPModel:
    saved = torch.load(checkpoint, map_location="cpu")
    model = CLIPModel(saved["config"])
    model.load_state_dict(saved["state_dict"])
    return model


def vit_manifest(cfg) -> dict:
    """Describe a ViT config for a manifest, tuples as JSON lists so the dict equals its file."""
    fields = {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(cfg).items()}
    return {"type": "vit", **fields}


def tiny_captioner(seed: int = 0) -> Captioner:
    """Build a random-weight captioner with the demo geometry (14 x 14 + CLS, GPT-2 heads) at tiny widths."""
    torch.manual_seed(seed)
    cfg = CaptionerConfig(
        vit=ViTConfig(embed_dim=32, depth=2, num_heads=2),
        gpt2=GPT2Config(n_embd=32, n_layer=2, n_head=2),
        projection="mlp",
        max_caption_tokens=20,
    )
    model = Captioner(cfg)
    apply_lora(model.gpt2, LoRAConfig(rank=4, alpha=8.0, dropout=0.0))
    # Random LoRA factors, so the lm_head low-rank path changes the logits and parity tests see it.
    for module in model.modules():
        if isinstance(module, LoRALinear):
            nn.init.normal_(module.lora_B, std=0.02)
    return model


def tiny_clip(seed: int = 0) -> CLIPModel:
    torch.manual_seed(seed)
    return CLIPModel(
        CLIPConfig(vision=ViTConfig(embed_dim=32, depth=2, num_heads=2), text=CLIPTextConfig(width=32, layers=2, heads=2), embed_dim=32)
    )


def main(argv=None):
    from . import parity

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("captioner", "clip", "tiny-random"), help="what to export")
    parser.add_argument("--checkpoint", type=Path, help="checkpoint from train_captioner or train_clip")
    parser.add_argument("--out", type=Path, required=True, help="package folder (tiny-random: parent folder)")
    parser.add_argument("--id", default=None, help="package id written to the manifest")
    parser.add_argument("--metrics", type=Path, default=None, help="JSON file whose content becomes manifest.metrics")
    parser.add_argument("--fixtures", type=Path, default=None, help="write parity fixtures to this folder")
    args = parser.parse_args(argv)
    metrics = json.loads(args.metrics.read_text()) if args.metrics else None
    extra = {"metrics": metrics} if metrics is not None else {}

    if args.what == "captioner":
        if args.checkpoint is None:
            parser.error("captioner export needs --checkpoint")
        model, saved = load_captioner(args.checkpoint)
        storage = prepare_captioner(model)
        extra["training"] = {"variant": saved["variant"], "lora": saved["lora"], "trainable_params": saved["trainable_params"],
                             "steps": saved["steps"], "epochs": saved["epochs"], **storage}  # fmt: skip
        manifest = export_captioner(
            model, args.out, args.id or "edgecap-demo-captioner", extra, preprocessing=saved.get("preprocessing")
        )
        if args.fixtures:
            parity.write_captioner_fixture(model, args.out, args.fixtures, manifest["id"])
    elif args.what == "clip":
        if args.checkpoint is None:
            parser.error("clip export needs --checkpoint")
        model = load_clip(args.checkpoint)
        prepare_clip(model)
        manifest = export_clip(model, args.out, args.id or "edgecap-demo-clip", extra)
        if args.fixtures:
            parity.write_clip_fixture(model, args.out, args.fixtures, manifest["id"])
    else:
        captioner = tiny_captioner()
        storage = prepare_captioner(captioner)
        note = {"training": {"note": "random weights for tests; captions are meaningless", **storage}}
        manifest = export_captioner(captioner, args.out / "tiny-random", "edgecap-tiny-random", note)
        clip = tiny_clip()
        prepare_clip(clip)
        export_clip(clip, args.out / "tiny-random-clip", "edgecap-tiny-random-clip", {"training": {"note": "random weights for tests"}})
        if args.fixtures:
            parity.write_captioner_fixture(captioner, args.out / "tiny-random", args.fixtures, "edgecap-tiny-random")
            parity.write_clip_fixture(clip, args.out / "tiny-random-clip", args.fixtures, "edgecap-tiny-random-clip")
    print(json.dumps({"out": str(args.out), "files": manifest.get("files")}, indent=2))


if __name__ == "__main__":
    main()
