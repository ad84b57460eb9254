"""Stage b: pretrain the demo ViT on the domain, standing in for an ImageNet-pretrained timm ViT.

Objectives, summed:
- per patch (14 x 14, CLS dropped): the kind and the colour of the object covering the patch, 0
  for background (cross-entropy). This makes each patch token describe its own content, which is
  what lets the captioner's attention ground a word in the object's patches;
- on the CLS token: the multi-hot set of (kind, colour, size) triples (binary cross-entropy) and
  the background texture (cross-entropy).
The heads are discarded afterwards; the checkpoint holds the timm-named ViT only.

    /usr/bin/python3 -m edgecap_models.train_vit --out models/work --steps 300
"""

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .data import build_split, normalize
from .domain import BACKGROUNDS, COLOR_NAMES, KINDS, SIZES
from .model import VisionTransformer, demo_config
from .training import JsonlLog, lr_at, save_checkpoint, set_lr, set_threads


class PretrainHeads(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.patch_kind = nn.Linear(dim, len(KINDS) + 1)
        self.patch_color = nn.Linear(dim, len(COLOR_NAMES) + 1)
        self.scene = nn.Linear(dim, len(KINDS) * len(COLOR_NAMES) * len(SIZES))
        self.background = nn.Linear(dim, len(BACKGROUNDS))

    def forward(self, tokens):
        cls, patches = tokens[:, 0], tokens[:, 1:]  # (B, C), (B, N, C)
        return self.patch_kind(patches), self.patch_color(patches), self.scene(cls), self.background(cls)


def losses_for(vit, heads, data, index):
    pixels = normalize(data["images"][index])
    kind_logits, color_logits, scene_logits, background_logits = heads(vit(pixels))
    kind = torch.from_numpy(data["patch_kind"][index]).flatten(1)  # (B, N)
    color = torch.from_numpy(data["patch_color"][index]).flatten(1)
    scene = torch.from_numpy(data["scene"][index])
    background = torch.from_numpy(data["background"][index])
    parts = {
        "patch_kind": F.cross_entropy(kind_logits.flatten(0, 1), kind.flatten()),
        "patch_color": F.cross_entropy(color_logits.flatten(0, 1), color.flatten()),
        "scene": F.binary_cross_entropy_with_logits(scene_logits, scene) * 10.0,  # sparse: 1-3 of 96
        "background": F.cross_entropy(background_logits, background),
    }
    accuracy = {
        "patch_kind_acc": (kind_logits.argmax(-1) == kind).float().mean().item(),
        "patch_color_acc": (color_logits.argmax(-1) == color).float().mean().item(),
        "scene_exact": ((scene_logits > 0).float() == scene).all(dim=1).float().mean().item(),
        "background_acc": (background_logits.argmax(-1) == background).float().mean().item(),
    }
    return parts, accuracy


def run(out: Path, steps: int, batch_size: int, lr: float, images: int, log_path: Path, seed: int = 0) -> dict:
    set_threads()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    log = JsonlLog(log_path, "vit")
    cfg = demo_config()
    train = build_split("train", images, cfg.vit.image_size, cfg.vit.grid_size, out / "cache")
    val = build_split("val", min(300, images), cfg.vit.image_size, cfg.vit.grid_size, out / "cache")
    log.write("start", images=images, steps=steps, batch_size=batch_size, lr=lr, config=vars(cfg.vit))

    vit, heads = VisionTransformer(cfg.vit), PretrainHeads(cfg.vit.embed_dim)
    params = list(vit.parameters()) + list(heads.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    warmup = max(1, steps // 15)
    for step in range(steps):
        set_lr(optimizer, lr_at(step, steps, lr, warmup))
        index = rng.choice(len(train["images"]), batch_size, replace=False)
        parts, accuracy = losses_for(vit, heads, train, index)
        loss = sum(parts.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if step % 25 == 0 or step == steps - 1:
            fields = {k: round(v.item(), 4) for k, v in parts.items()}
            log.write("step", step=step, loss=round(loss.item(), 4), **fields, **{k: round(v, 3) for k, v in accuracy.items()})

    vit.eval()
    with torch.no_grad():
        totals = {}
        for start in range(0, len(val["images"]), 100):
            _, accuracy = losses_for(vit, heads, val, np.arange(start, min(start + 100, len(val["images"]))))
            for k, v in accuracy.items():
                totals.setdefault(k, []).append(v)
    val_metrics = {k: round(float(np.mean(v)), 4) for k, v in totals.items()}
    save_checkpoint(out / "vit.pt", vit, cfg.vit)
    log.write("done", steps=steps, val=val_metrics, checkpoint=str(out / "vit.pt"))
    return {"steps": steps, "batch_size": batch_size, "val": val_metrics, "seconds": log.elapsed()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("models/work"), help="work folder for checkpoints and caches")
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--images", type=int, default=6000, help="training images")
    parser.add_argument("--log", type=Path, default=Path("models/logs/train_vit.jsonl"), help="JSON-lines log")
    args = parser.parse_args(argv)
    run(args.out, args.steps, args.batch_size, args.lr, args.images, args.log)


if __name__ == "__main__":
    main()
