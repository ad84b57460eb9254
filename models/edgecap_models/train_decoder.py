"""Stage a: pretrain the GPT-2-shaped decoder as a language model on the demo training captions.

This stands in for downloading GPT-2: the captioner stage then freezes this decoder and trains
only LoRA and the projection, exactly as it would with the real `gpt2` checkpoint.
Sequences are <|endoftext|> caption <|endoftext|>. Each batch starts at a random wpe row so that
every position row is trained, including those the captioner's 197-token prefix pushes text to.

    /usr/bin/python3 -m edgecap_models.train_decoder --out models/work --steps 300
"""

import argparse
import random
from pathlib import Path

import torch

from .data import build_split, caption_batch
from .model import GPT2_END_OF_TEXT_ID, IGNORE_INDEX, GPT2LMHeadModel, demo_config
from .text import gpt2_encode
from .training import JsonlLog, lr_at, save_checkpoint, set_lr, set_threads


def run(out: Path, steps: int, batch_size: int, lr: float, images: int, log_path: Path, seed: int = 0) -> dict:
    set_threads()
    torch.manual_seed(seed)
    rng = random.Random(seed)
    log = JsonlLog(log_path, "decoder")
    cfg = demo_config()

    data = build_split("train", images, cfg.vit.image_size, cfg.vit.grid_size, out / "cache")
    captions = [gpt2_encode(c) for row in data["captions"] for c in row]
    log.write("start", captions=len(captions), steps=steps, batch_size=batch_size, lr=lr, config=vars(cfg.gpt2))

    model = GPT2LMHeadModel(cfg.gpt2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.95))
    warmup = max(1, steps // 15)
    losses = []
    for step in range(steps):
        set_lr(optimizer, lr_at(step, steps, lr, warmup))
        batch = rng.sample(captions, batch_size)
        input_ids, labels = caption_batch(batch, cfg.max_caption_tokens)
        # The LM shifts labels itself, so it takes begin + caption + end as both input and label.
        sequence = torch.cat([input_ids, torch.full_like(input_ids[:, :1], GPT2_END_OF_TEXT_ID)], dim=1)  # (B, T+1)
        targets = torch.cat([torch.full_like(labels[:, :1], IGNORE_INDEX), labels], dim=1)  # (B, T+1)
        start = rng.randint(0, cfg.gpt2.n_positions - sequence.shape[1])
        _, loss = model(sequence, targets, start_position=start)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if step % 25 == 0 or step == steps - 1:
            log.write("step", step=step, loss=round(loss.item(), 4), lr=optimizer.param_groups[0]["lr"])

    save_checkpoint(out / "decoder.pt", model, cfg.gpt2)
    final = sum(losses[-20:]) / len(losses[-20:])
    log.write("done", steps=steps, final_loss=round(final, 4), checkpoint=str(out / "decoder.pt"))
    return {"steps": steps, "batch_size": batch_size, "final_loss": final, "seconds": log.elapsed()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("models/work"), help="work folder for checkpoints and caches")
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, default=64, help="captions per step")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    parser.add_argument("--images", type=int, default=6000, help="training images whose captions are used")
    parser.add_argument("--log", type=Path, default=Path("models/logs/train_decoder.jsonl"), help="JSON-lines log")
    args = parser.parse_args(argv)
    run(args.out, args.steps, args.batch_size, args.lr, args.images, args.log)


if __name__ == "__main__":
    main()
