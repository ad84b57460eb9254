"""Train the captioner on your own COCO-layout data, from real timm ViT and Hugging Face GPT-2 weights.

The recipe is the demo's (frozen ViT, projection + LoRA on the frozen decoder, AdamW, warm-up +
cosine, clipping at 1.0, shared prefix over K captions per image); only the data and the
starting weights change. The checkpoint it writes is what `edgecap_models.export captioner`
reads. docs/training.md walks through a full run.

    # full size on a CUDA GPU: ViT-B/16 at 224 px (timm vit_base_patch16_224) + GPT-2 small
    PYTHONPATH=models python -m edgecap_models.train_coco --config full \
        --images coco/train2017 --captions coco/annotations/captions_train2017.json \
        --vit-weights vit_base_patch16_224.pth --gpt2-weights gpt2/pytorch_model.bin \
        --out models/work/captioner_coco.pt

`--config full` without a CUDA GPU prints why and exits with status 2. `--config demo` (the demo
geometry, random or demo-trained weights) runs on CPU, for trying the pipeline on small data.
"""

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .data import CLIP_MEAN, CLIP_STD, Preprocessing, caption_batch, normalize, resize_and_crop
from .lora import LoRAConfig
from .model import CaptionerConfig, demo_config, full_size_config
from .text import gpt2_encode
from .train_captioner import build_captioner
from .training import JsonlLog, lr_at, set_lr, set_threads
from .weights import load_gpt2_state_dict, load_vit_state_dict

# timm's vit_base_patch16_224 (augreg) normalises with mean = std = 0.5 per channel.
TIMM_VIT_MEAN = (0.5, 0.5, 0.5)
TIMM_VIT_STD = (0.5, 0.5, 0.5)


def load_weights(path: Path) -> dict:
    """Load a state dict from .safetensors (needs the safetensors package) or a torch pickle."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu")
    return state.get("state_dict", state) if isinstance(state, dict) else state


def read_coco_captions(captions_json: Path, images_dir: Path) -> list[tuple[Path, list[str]]]:
    """Return [(image path, captions)] from a COCO caption file; images without captions are dropped."""
    document = json.loads(Path(captions_json).read_text())
    captions: dict[int, list[str]] = {}
    for annotation in document["annotations"]:
        captions.setdefault(annotation["image_id"], []).append(annotation["caption"].strip())
    items = []
    for image in document["images"]:
        if image["id"] in captions:
            items.append((Path(images_dir) / image["file_name"], captions[image["id"]]))
    if not items:
        raise ValueError(f"{captions_json} pairs no image with a caption; check the images and annotations lists")
    return items


def load_pixels(paths: list[Path], prep: Preprocessing) -> torch.Tensor:
    images = [resize_and_crop(np.asarray(Image.open(p).convert("RGB")), prep.size) for p in paths]
    return normalize(np.stack(images), prep)


def config_for(name: str) -> tuple[CaptionerConfig, Preprocessing]:
    if name == "full":
        cfg = full_size_config()
        return cfg, Preprocessing(size=cfg.vit.image_size, mean=TIMM_VIT_MEAN, std=TIMM_VIT_STD)
    cfg = demo_config()
    return cfg, Preprocessing(size=cfg.vit.image_size, mean=CLIP_MEAN, std=CLIP_STD)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=("full", "demo"), default="full", help="model geometry")
    parser.add_argument("--images", type=Path, required=True, help="folder of the images named in --captions")
    parser.add_argument("--captions", type=Path, required=True, help="COCO-layout caption JSON")
    parser.add_argument("--vit-weights", type=Path, help="timm ViT state dict (.pth, .bin or .safetensors)")
    parser.add_argument("--gpt2-weights", type=Path, help="Hugging Face GPT-2 state dict")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint to write")
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank r")
    parser.add_argument("--alpha", type=float, default=32.0, help="LoRA alpha (scale = alpha / r)")
    parser.add_argument("--train-last-vit-block", action="store_true", help="also train the last ViT block")
    parser.add_argument("--max-trainable", type=int, default=10_000_000, help="reject runs above this many")
    parser.add_argument("--epochs", type=float, default=5.0, help="passes over the images")
    parser.add_argument("--batch-images", type=int, default=32, help="images per step")
    parser.add_argument("--captions-per-image", type=int, default=5, help="captions drawn per image per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--log", type=Path, default=Path("models/logs/train_coco.jsonl"), help="JSON-lines log")
    args = parser.parse_args(argv)

    cuda = torch.cuda.is_available()
    if args.config == "full" and not cuda:
        print(
            "train_coco --config full trains ViT-B/16 at 224 px + GPT-2 small and needs a CUDA GPU, "
            "but torch.cuda.is_available() is False. Run it on a GPU machine (docs/training.md), "
            "or pass --config demo to try the pipeline on CPU.",
            file=sys.stderr,
        )
        sys.exit(2)
    device = torch.device("cuda" if cuda else "cpu")
    if not cuda:
        set_threads()

    cfg, prep = config_for(args.config)
    vit_state = load_weights(args.vit_weights) if args.vit_weights else None
    gpt2_state = load_weights(args.gpt2_weights) if args.gpt2_weights else None
    lora_cfg = LoRAConfig(rank=args.rank, alpha=args.alpha, train_last_vit_block=args.train_last_vit_block,
                          max_trainable_params=args.max_trainable)  # fmt: skip
    model = build_captioner(cfg, lora_cfg)
    if vit_state is not None or gpt2_state is not None:
        # The maps expect un-wrapped modules, so load into a fresh model and copy over by name.
        from .model import Captioner

        fresh = Captioner(cfg)
        if vit_state is not None:
            load_vit_state_dict(fresh.vit, vit_state)
        if gpt2_state is not None:
            load_gpt2_state_dict(fresh.gpt2, gpt2_state)
        model.vit.load_state_dict(fresh.vit.state_dict())
        wrapped = {k.replace(".base.", "."): k for k in model.gpt2.state_dict() if ".base." in k}
        own = model.gpt2.state_dict()
        for name, tensor in fresh.gpt2.state_dict().items():
            own[wrapped.get(name, name)].copy_(tensor)
    model.to(device)

    items = read_coco_captions(args.captions, args.images)
    steps = max(1, int(args.epochs * len(items) / args.batch_images))
    log = JsonlLog(args.log, f"coco_{args.config}")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.write("start", images=len(items), steps=steps, device=str(device), lora=asdict(lora_cfg), trainable_params=trainable)

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    rng = np.random.default_rng(0)
    first_block = cfg.vit.depth - 1 if lora_cfg.train_last_vit_block else None
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else torch.autocast("cpu", enabled=False)
    losses, started = [], time.perf_counter()
    model.train()
    for step in range(steps):
        set_lr(optimizer, lr_at(step, steps, args.lr, max(1, steps // 20)))
        index = rng.choice(len(items), min(args.batch_images, len(items)), replace=False)
        pixels = load_pixels([items[i][0] for i in index], prep).to(device)
        captions = []
        for i in index:
            captions.extend(rng.choice(items[i][1], args.captions_per_image, replace=True).tolist())
        input_ids, labels = caption_batch([gpt2_encode(c) for c in captions], cfg.max_caption_tokens)
        with autocast:
            with torch.no_grad():
                tokens = model.vit(pixels) if first_block is None else model.vit.forward_until(pixels, first_block)
            if first_block is not None:
                tokens = model.vit(None, first_block=first_block, tokens=tokens)
            loss = model(model.encode_image(vit_tokens=tokens), input_ids.to(device), labels.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == steps - 1:
            log.write("step", step=step, loss=round(loss.item(), 4))

    model.cpu()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "state_dict": model.state_dict(),
            "config": cfg,
            "lora": asdict(lora_cfg),
            "variant": f"coco_r{args.rank}_a{args.alpha:g}",
            "trainable_params": trainable,
            "epochs": steps * args.batch_images / len(items),
            "final_loss": float(np.mean(losses[-20:])),
            "steps": steps,
            "preprocessing": prep.manifest(),
        },
        args.out,
    )
    log.write("done", checkpoint=str(args.out), seconds=round(time.perf_counter() - started, 1))


if __name__ == "__main__":
    main()
