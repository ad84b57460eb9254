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
from .model import VisionTransformer, ViTConfig, demo_config, sincos_pos_embed
from .training import JsonlLog, lr_at, save_checkpoint, set_lr, set_threads


# Background patches outnumber object patches about 9 to 1 (10% of val patches lie on an object).
BACKGROUND_WEIGHT = 0.1

# Weight of the scene-level multi-hot loss (1-3 of 96 triples are present).
SCENE_WEIGHT = 10.0


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


def class_weights(classes: int, background_weight: float) -> torch.Tensor:
    """Cross-entropy weights with class 0 (background) scaled down.

    About 90% of the patches are background, so an unweighted loss is met by predicting
    background everywhere: the first demo ViT reached 0.92 patch-kind accuracy while naming
    few object patches right, and the captioner built on it named absent kinds.
    """
    weights = torch.ones(classes)
    weights[0] = background_weight
    return weights


def losses_for(vit, heads, data, index, background_weight: float = 1.0):
    pixels = normalize(data["images"][index])
    kind_logits, color_logits, scene_logits, background_logits = heads(vit(pixels))
    kind = torch.from_numpy(data["patch_kind"][index]).flatten(1)  # (B, N)
    color = torch.from_numpy(data["patch_color"][index]).flatten(1)
    scene = torch.from_numpy(data["scene"][index])
    background = torch.from_numpy(data["background"][index])
    kind_weights = class_weights(kind_logits.shape[-1], background_weight)
    color_weights = class_weights(color_logits.shape[-1], background_weight)
    on_object = kind > 0
    parts = {
        "patch_kind": F.cross_entropy(kind_logits.flatten(0, 1), kind.flatten(), weight=kind_weights),
        "patch_color": F.cross_entropy(color_logits.flatten(0, 1), color.flatten(), weight=color_weights),
        "scene": F.binary_cross_entropy_with_logits(scene_logits, scene) * SCENE_WEIGHT,
        "background": F.cross_entropy(background_logits, background),
    }
    accuracy = {
        "patch_kind_acc": (kind_logits.argmax(-1) == kind).float().mean().item(),
        # The share that matters for captions: object patches whose kind is named right.
        "object_kind_acc": (kind_logits.argmax(-1) == kind)[on_object].float().mean().item(),
        "patch_color_acc": (color_logits.argmax(-1) == color).float().mean().item(),
        "scene_exact": ((scene_logits > 0).float() == scene).all(dim=1).float().mean().item(),
        "background_acc": (background_logits.argmax(-1) == background).float().mean().item(),
    }
    return parts, accuracy


def run(
    out: Path, steps: int, batch_size: int, lr: float, images: int, log_path: Path, seed: int = 0,
    background_weight: float = BACKGROUND_WEIGHT, stem_steps: int = 0, stem_lr: float = 2e-3, plain: bool = False,
) -> dict:
    set_threads()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    log = JsonlLog(log_path, "vit")
    # plain: the ViT without a conv stem (the first demo ViT), kept to compare the two embeddings.
    cfg = demo_config(vit=ViTConfig()) if plain else demo_config()
    train = build_split("train", images, cfg.vit.image_size, cfg.vit.grid_size, out / "cache")
    val = build_split("val", min(300, images), cfg.vit.image_size, cfg.vit.grid_size, out / "cache")
    log.write("start", images=images, steps=steps, batch_size=batch_size, lr=lr, background_weight=background_weight,
              config=vars(cfg.vit))  # fmt: skip

    vit, heads = VisionTransformer(cfg.vit), PretrainHeads(cfg.vit.embed_dim)
    with torch.no_grad():
        vit.pos_embed.copy_(sincos_pos_embed(cfg.vit.grid_size, cfg.vit.embed_dim)[None])
    stem = train_stem(vit, train, stem_steps, batch_size, stem_lr, background_weight, rng, log) if stem_steps else None
    params = list(vit.parameters()) + list(heads.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    warmup = max(1, steps // 15)
    for step in range(steps):
        set_lr(optimizer, lr_at(step, steps, lr, warmup))
        index = rng.choice(len(train["images"]), batch_size, replace=False)
        parts, accuracy = losses_for(vit, heads, train, index, background_weight)
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
    return {"steps": steps, "batch_size": batch_size, "background_weight": background_weight, "stem": stem,
            "val": val_metrics, "seconds": log.elapsed()}  # fmt: skip


def train_stem(vit, train, steps: int, batch_size: int, lr: float, background_weight: float, rng, log) -> dict:
    """Warm up the conv stem alone as a patch classifier, before the transformer blocks train.

    Here the stem is a small CNN with a linear head per patch. A step takes about 0.17 s on 2 cores,
    against about 1 s for the whole ViT, so object edges and corners are learnt cheaply first.
    """
    if vit.patch_embed.backbone is None:
        raise ValueError("--stem-steps needs a ViT with a conv stem (ViTConfig.stem_channels)")
    dim = vit.cfg.embed_dim
    kind_head, color_head = nn.Linear(dim, len(KINDS) + 1), nn.Linear(dim, len(COLOR_NAMES) + 1)
    params = list(vit.patch_embed.parameters()) + list(kind_head.parameters()) + list(color_head.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    kind_weights = class_weights(len(KINDS) + 1, background_weight)
    color_weights = class_weights(len(COLOR_NAMES) + 1, background_weight)
    recent = []
    for step in range(steps):
        set_lr(optimizer, lr_at(step, steps, lr, max(1, steps // 15)))
        index = rng.choice(len(train["images"]), batch_size, replace=False)
        features = F.gelu(vit.patch_embed(normalize(train["images"][index])))  # (B, N, C)
        kind = torch.from_numpy(train["patch_kind"][index]).flatten(1)
        color = torch.from_numpy(train["patch_color"][index]).flatten(1)
        kind_logits = kind_head(features)
        loss = F.cross_entropy(kind_logits.flatten(0, 1), kind.flatten(), weight=kind_weights) + F.cross_entropy(
            color_head(features).flatten(0, 1), color.flatten(), weight=color_weights
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        recent.append((kind_logits.argmax(-1) == kind)[kind > 0].float().mean().item())
        if step % 100 == 0 or step == steps - 1:
            log.write("stem", step=step, loss=round(loss.item(), 4), object_kind_acc=round(float(np.mean(recent[-50:])), 3))
    return {"steps": steps, "lr": lr, "object_kind_acc_last_50": round(float(np.mean(recent[-50:])), 4)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("models/work"), help="work folder for checkpoints and caches")
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--images", type=int, default=6000, help="training images")
    parser.add_argument("--background-weight", type=float, default=BACKGROUND_WEIGHT,
                        help="cross-entropy weight of background patches (object classes weigh 1)")  # fmt: skip
    parser.add_argument("--log", type=Path, default=Path("models/logs/train_vit.jsonl"), help="JSON-lines log")
    parser.add_argument("--stem-steps", type=int, default=1000, help="conv-stem warm-up steps (hybrid ViT only)")
    parser.add_argument("--result", type=Path, default=None, help="also write the result JSON, with this command, here")
    parser.add_argument("--plain", action="store_true", help="no conv stem: the plain 8 x 8 patch projection")
    args = parser.parse_args(argv)
    if args.plain and args.stem_steps:
        parser.error("--plain has no conv stem to warm up; pass --stem-steps 0 with it")
    if args.images < args.batch_size:
        parser.error(f"--images {args.images} is below --batch-size {args.batch_size}; use at least one batch of images")
    if args.stem_steps < 0:
        parser.error(f"--stem-steps must be >= 0 (0 skips the warm-up), got {args.stem_steps}")
    if not 0 < args.background_weight <= 1:
        parser.error(f"--background-weight must be in (0, 1], got {args.background_weight}")
    result = run(args.out, args.steps, args.batch_size, args.lr, args.images, args.log,
                 background_weight=args.background_weight, stem_steps=args.stem_steps, plain=args.plain)  # fmt: skip
    if args.result:
        from .train_captioner import write_result

        write_result(args.result, result, argv, "edgecap_models.train_vit")


if __name__ == "__main__":
    main()
