"""Stage c: the captioner. Pretrained ViT + projection + LoRA on the pretrained, frozen decoder.

Recipe: AdamW, linear warm-up then cosine decay, gradient clipping at 1.0. Trainable: LoRA
factors, the projection, and optionally the last ViT block. Everything else is frozen, so the
ViT tokens (or the tokens entering the last block) are computed once and cached. Each step
takes `batch_images` images with all five of their captions.

    /usr/bin/python3 -m edgecap_models.train_captioner --out models/work --rank 16 --alpha 32

The full-size geometry (ViT-B/16 at 224 px + GPT-2 small) is selected with `--full-size` and needs
a CUDA GPU; without one this command prints why and exits with status 2. See docs/training.md.
"""

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .data import build_split, caption_batch, normalize
from .evaluate_captioner import cider_of, generate_captions, grounding, score_with_cli, write_homework_files
from .grounding_loss import batch_targets, caption_targets, grounding_loss
from .lora import LoRAConfig, LoRALinear, apply_lora, check_trainable_cap
from .model import Captioner, CaptionerConfig, demo_config, full_size_config
from .text import gpt2_encode
from .training import JsonlLog, load_checkpoint, lr_at, save_checkpoint, set_lr, set_threads

# The variants the demo run compares: the reference recipe and two other rank / alpha choices.
VARIANTS = {
    "r16_a32": dict(rank=16, alpha=32.0),
    "r64_a16": dict(rank=64, alpha=16.0),
    "r16_a8": dict(rank=16, alpha=8.0),
}


@torch.no_grad()
def vit_token_cache(vit, images_u8, first_block: int | None, cache_path: Path | None, batch_size: int = 64):
    """Run the frozen ViT once over uint8 images; return fp16 tokens (N, 197, C).

    first_block None: the final normed tokens. Otherwise the tokens entering blocks[first_block].
    """
    if cache_path is not None and cache_path.exists():
        return torch.load(cache_path)
    vit.eval()
    chunks = []
    for start in range(0, len(images_u8), batch_size):
        pixels = normalize(images_u8[start : start + batch_size])
        tokens = vit(pixels) if first_block is None else vit.forward_until(pixels, first_block)
        chunks.append(tokens.half())
    tokens = torch.cat(chunks)
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(tokens, cache_path)
    return tokens


def build_captioner(cfg: CaptionerConfig, lora_cfg: LoRAConfig, vit_state=None, decoder_state=None) -> Captioner:
    """Assemble the captioner from pretrained parts, freeze it, add LoRA, check the trainable cap."""
    model = Captioner(cfg)
    if vit_state is not None:
        model.vit.load_state_dict(vit_state)
    if decoder_state is not None:
        model.gpt2.load_state_dict(decoder_state)
    for param in model.vit.parameters():
        param.requires_grad = False
    if lora_cfg.train_last_vit_block:
        for param in list(model.vit.blocks[-1].parameters()) + list(model.vit.norm.parameters()):
            param.requires_grad = True
    apply_lora(model.gpt2, lora_cfg)
    check_trainable_cap(model, lora_cfg.max_trainable_params, label=f"captioner r{lora_cfg.rank} a{lora_cfg.alpha:g}")
    return model


def run(
    out: Path,
    name: str,
    lora_cfg: LoRAConfig,
    steps: int,
    batch_images: int,
    lr: float,
    images: int,
    test_images: int,
    log_path: Path,
    projection: str = "mlp",
    seed: int = 0,
    init_from: Path | None = None,
    grounding_weight: float = 0.0,
) -> dict:
    set_threads()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    log = JsonlLog(log_path, f"captioner_{name}")
    vit_ckpt = load_checkpoint(out / "vit.pt")
    cfg = demo_config(projection=projection, vit=vit_ckpt["config"])  # the geometry the ViT was trained with
    decoder_ckpt = load_checkpoint(out / "decoder.pt")
    model = build_captioner(cfg, lora_cfg, vit_ckpt["state_dict"], decoder_ckpt["state_dict"])
    earlier_steps = 0
    if init_from is not None:
        # Continue from a trained captioner of the same settings, with a fresh warm-up and schedule.
        earlier = load_checkpoint(init_from)
        model.load_state_dict(earlier["state_dict"])
        earlier_steps = earlier["steps"]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    train = build_split("train", images, cfg.vit.image_size, cfg.vit.grid_size, out / "cache")
    first_block = cfg.vit.depth - 1 if lora_cfg.train_last_vit_block else None
    suffix = "final" if first_block is None else f"block{first_block}"
    tokens = vit_token_cache(model.vit, train["images"], first_block, out / "cache" / f"vit_train_{images}_{suffix}.pt")
    captions = [[gpt2_encode(c) for c in row] for row in train["captions"]]
    grid = cfg.vit.grid_size
    targets = None
    if grounding_weight > 0:
        targets = [[caption_targets(c, objects, grid) for c in row] for row, objects in zip(captions, train["objects"])]
    log.write("start", variant=name, lora=asdict(lora_cfg), projection=projection, trainable_params=trainable,
              steps=steps, batch_images=batch_images, lr=lr, images=images, grounding_weight=grounding_weight)  # fmt: skip

    lora_params = [p for n, p in model.named_parameters() if p.requires_grad and "lora_" in n]
    other_params = [p for n, p in model.named_parameters() if p.requires_grad and "lora_" not in n]
    optimizer = torch.optim.AdamW(
        [{"params": lora_params, "weight_decay": 0.0}, {"params": other_params, "weight_decay": 0.01}], lr=lr
    )
    trainable_list = lora_params + other_params
    warmup = max(1, steps // 15)
    losses = []
    model.train()
    model.vit.eval()  # frozen blocks; the ViT has no dropout, this only documents intent
    for step in range(steps):
        set_lr(optimizer, lr_at(step, steps, lr, warmup))
        index = rng.choice(len(captions), batch_images, replace=False)
        batch_tokens = tokens[torch.from_numpy(index)].float()
        if first_block is not None:
            batch_tokens = model.vit(None, first_block=first_block, tokens=batch_tokens)
        prefix = model.encode_image(vit_tokens=batch_tokens)  # (B, 197, C)
        input_ids, labels = caption_batch([c for i in index for c in captions[i]], cfg.max_caption_tokens)
        batch = None if targets is None else batch_targets([t for i in index for t in targets[i]], cfg.max_caption_tokens)
        if batch is None:
            loss = caption_loss = model(prefix, input_ids, labels)
            attention_loss = None
        else:
            caption_loss, prefix_attention = model(prefix, input_ids, labels, return_prefix_attention=True)
            attention_loss = grounding_loss(prefix_attention, batch)
            loss = caption_loss + grounding_weight * attention_loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable_list, 1.0)
        optimizer.step()
        losses.append(caption_loss.item())
        if step % 25 == 0 or step == steps - 1:
            extra = {} if attention_loss is None else {"grounding_loss": round(attention_loss.item(), 4)}
            log.write("step", step=step, loss=round(caption_loss.item(), 4), **extra, lr=optimizer.param_groups[0]["lr"])

    steps_total = earlier_steps + steps
    epochs = steps_total * batch_images / images
    final_loss = float(np.mean(losses[-20:]))
    checkpoint = out / f"captioner_{name}.pt"
    save_checkpoint(checkpoint, model, cfg, lora=asdict(lora_cfg), variant=name, trainable_params=trainable,
                    epochs=epochs, final_loss=final_loss, steps=steps_total)  # fmt: skip
    train_seconds = log.elapsed()
    log.write("trained", checkpoint=str(checkpoint), final_loss=round(final_loss, 4), epochs=round(epochs, 3))

    evaluation = evaluate_model(model, cfg, out, test_images, first_block, name)
    log.write("evaluated", **{k: v for k, v in evaluation.items() if k != "cli"})
    return {
        "variant": name,
        "rank": lora_cfg.rank,
        "alpha": lora_cfg.alpha,
        "projection": projection,
        "train_last_vit_block": lora_cfg.train_last_vit_block,
        "trainable_params": trainable,
        "steps": steps_total,
        "init_from": None if init_from is None else str(init_from),
        "grounding_weight": grounding_weight,
        "batch_images": batch_images,
        "captions_per_step": batch_images * 5,
        "epochs": round(epochs, 3),
        "final_train_loss": round(final_loss, 4),
        "train_seconds": train_seconds,
        **evaluation,
    }


def evaluate_model(
    model, cfg: CaptionerConfig, out: Path, test_images: int, first_block, name: str, cache_tokens: bool = True
) -> dict:
    """Caption the test split, write the homework files, score CIDEr-D with the CLI, ground words.

    cache_tokens=False recomputes the ViT tokens, as needed after the weights were rounded for export.
    """
    test = build_split("test", test_images, cfg.vit.image_size, cfg.vit.grid_size, out / "cache")
    suffix = "final" if first_block is None else f"block{first_block}"
    cache = out / "cache" / f"vit_test_{test_images}_{suffix}.pt" if cache_tokens else None
    tokens = vit_token_cache(model.vit, test["images"], first_block, cache)
    results = generate_captions(model, tokens, first_block=first_block)
    folder = out / "eval" / name
    prediction_path, reference_path = write_homework_files(
        folder, test["names"], [r[0] for r in results], test["captions"]
    )
    cli = score_with_cli(prediction_path, reference_path)
    ground = grounding(results, test["objects"], cfg.vit.grid_size)
    examples = [{"image": str(test["names"][i]), "caption": results[i][0]} for i in range(min(3, len(results)))]
    return {
        "test_images": len(results),
        "decoding": "greedy",
        "cider_d": cider_of(cli),
        "cli": cli,
        **ground,
        "predictions": str(prediction_path),
        "references": str(reference_path),
        "examples": examples,
    }


def evaluate_checkpoint(checkpoint: Path, out: Path, test_images: int) -> dict:
    """Rebuild a trained captioner from its checkpoint and evaluate it on the test split."""
    saved = load_checkpoint(checkpoint)
    cfg = saved["config"]
    lora_cfg = LoRAConfig(**saved["lora"])
    model = build_captioner(cfg, lora_cfg)
    model.load_state_dict(saved["state_dict"])
    first_block = cfg.vit.depth - 1 if lora_cfg.train_last_vit_block else None
    return evaluate_model(model, cfg, out, test_images, first_block, saved["variant"])


def require_gpu_for_full_size() -> None:
    """Exit with a message when the full-size geometry is requested without a CUDA GPU."""
    if not torch.cuda.is_available():
        cfg = full_size_config()
        print(
            "train_captioner --full-size builds ViT-B/16 at 224 px + GPT-2 small "
            f"({cfg.vit.num_tokens} prefix tokens, {cfg.gpt2.n_layer} decoder layers) and needs a CUDA GPU, "
            "but torch.cuda.is_available() is False. Run it on a GPU machine (docs/training.md), "
            "or drop --full-size to train the demo geometry on CPU.",
            file=sys.stderr,
        )
        sys.exit(2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("models/work"), help="work folder with vit.pt and decoder.pt")
    parser.add_argument("--variant", default=None, help=f"preset rank/alpha: {', '.join(VARIANTS)}")
    parser.add_argument("--rank", type=int, default=None, help="LoRA rank r (default 16)")
    parser.add_argument("--alpha", type=float, default=None, help="LoRA alpha, scale = alpha / r (default 32)")
    parser.add_argument("--dropout", type=float, default=0.05, help="LoRA dropout")
    parser.add_argument("--targets", default=",".join(LoRAConfig().targets), help="comma-separated module names")
    parser.add_argument("--projection", choices=("linear", "mlp"), default="mlp", help="visual projection")
    parser.add_argument("--train-last-vit-block", action="store_true", help="also train the last ViT block")
    parser.add_argument("--max-trainable", type=int, default=10_000_000, help="reject runs above this many")
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps")
    parser.add_argument("--batch-images", type=int, default=16, help="images per step (5 captions each)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    parser.add_argument("--images", type=int, default=6000, help="training images")
    parser.add_argument("--test-images", type=int, default=300, help="test images to caption")
    parser.add_argument("--full-size", action="store_true", help="ViT-B/16 + GPT-2 small geometry (GPU only)")
    parser.add_argument("--log", type=Path, default=None, help="JSON-lines log (default models/logs/...)")
    parser.add_argument("--name", default=None, help="run name for checkpoint, logs and outputs")
    parser.add_argument("--init-from", type=Path, default=None, help="continue from this captioner checkpoint")
    parser.add_argument("--result", type=Path, default=None, help="also write the result JSON, with this command, here")
    parser.add_argument("--grounding-weight", type=float, default=0.0,
                        help="weight of the attention-supervision loss on kind words (0: off); see grounding_loss.py")  # fmt: skip
    args = parser.parse_args(argv)
    # `not x >= 0` also rejects NaN, which would turn the loss off without a word.
    if not args.grounding_weight >= 0:
        parser.error(f"--grounding-weight must be a number >= 0, got {args.grounding_weight}")
    for option, value in (("--steps", args.steps), ("--batch-images", args.batch_images), ("--test-images", args.test_images)):
        if value < 1:
            parser.error(f"{option} must be at least 1, got {value}")
    if args.images < args.batch_images:
        parser.error(f"--images {args.images} is below --batch-images {args.batch_images}; use at least one batch")
    if args.init_from is not None and not args.init_from.exists():
        parser.error(f"--init-from {args.init_from} not found; pass a checkpoint that train_captioner wrote")

    if args.full_size:
        require_gpu_for_full_size()
        # NOTE: the full-size path stops here: loading real checkpoints and the GPU loop are documented
        # in docs/training.md but have not been run, because no GPU or weights were available.
        print("full-size training is documented in docs/training.md; this command trains the demo geometry")
        sys.exit(2)

    preset = VARIANTS.get(args.variant, {}) if args.variant else {}
    if args.variant and not preset:
        parser.error(f"unknown --variant {args.variant!r}; choose one of {', '.join(VARIANTS)}")
    if preset and (args.rank is not None or args.alpha is not None):
        parser.error(f"--variant {args.variant} sets rank {preset['rank']} and alpha {preset['alpha']:g}; "
                     "drop --rank / --alpha, or drop --variant")  # fmt: skip
    rank = preset.get("rank", 16 if args.rank is None else args.rank)
    if rank < 1:
        parser.error(f"--rank must be at least 1, got {rank}")
    lora_cfg = LoRAConfig(
        rank=rank,
        alpha=preset.get("alpha", 32.0 if args.alpha is None else args.alpha),
        dropout=args.dropout,
        targets=tuple(t for t in args.targets.split(",") if t),
        train_last_vit_block=args.train_last_vit_block,
        max_trainable_params=args.max_trainable,
    )
    if not (args.out / "vit.pt").exists() or not (args.out / "decoder.pt").exists():
        parser.error(f"{args.out} lacks vit.pt or decoder.pt; run train_vit and train_decoder with --out {args.out} first")
    name = args.name or args.variant or f"r{lora_cfg.rank}_a{lora_cfg.alpha:g}"
    log = args.log or Path(f"models/logs/train_captioner_{name}.jsonl")
    result = run(args.out, name, lora_cfg, args.steps, args.batch_images, args.lr, args.images, args.test_images,
                 log, projection=args.projection, init_from=args.init_from,
                 grounding_weight=args.grounding_weight)  # fmt: skip
    print(json.dumps({k: v for k, v in result.items() if k != "cli"}, indent=2))
    if args.result:
        write_result(args.result, result, argv, "edgecap_models.train_captioner")


def write_result(path: Path, result: dict, argv, module: str) -> None:
    """Write a stage result with the command that produced it, for train_demo / release to collect."""
    import shlex

    arguments = argv if argv is not None else sys.argv[1:]
    command = f"PYTHONPATH=models /usr/bin/python3 -m {module} " + " ".join(
        shlex.quote(a) for a in arguments
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"command": command, **result}, indent=2) + "\n")


if __name__ == "__main__":
    main()
