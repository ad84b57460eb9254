"""Stage d: the CLIP-style dual encoder, trained contrastively on demo images and captions.

The image tower starts from the stage-b ViT with all blocks but the last frozen (locked-image
tuning, as in LiT), so the tokens entering the last block are cached once; the last block, the
final norm, the visual projection, the whole text tower and the temperature are trained. Each
step pairs `batch_size` distinct images with one of their five captions, drawn at random.
Text batches are cut to their longest sequence: attention is causal and the embedding is read at
the end token, so the zero padding after it never changes the result.

    /usr/bin/python3 -m edgecap_models.train_clip --out models/work --steps 400
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .clip_model import CLIPConfig, CLIPModel
from .data import build_split
from .model import ViTConfig
from .text import clip_tokenize
from .train_captioner import vit_token_cache
from .training import JsonlLog, load_checkpoint, lr_at, save_checkpoint, set_lr, set_threads


def trim(ids: torch.Tensor) -> torch.Tensor:
    """Cut (N, 77) ids to the longest row's end token."""
    return ids[:, : int(ids.argmax(dim=1).max()) + 1]


@torch.no_grad()
def retrieval(model: CLIPModel, tokens, ids, captions_per_image: int, first_block: int) -> dict:
    """Image-to-text and text-to-image recall@1 and @5 over a split's images and all its captions."""
    model.eval()
    images = torch.cat([model.encode_image(tokens=t.float(), first_block=first_block) for t in tokens.split(100)])
    texts = torch.cat([model.encode_text(trim(chunk)) for chunk in ids.split(500)])
    sims = F.normalize(images, dim=-1) @ F.normalize(texts, dim=-1).t()  # (N, N*K)
    owner = torch.arange(texts.shape[0]) // captions_per_image  # image of each caption
    top = sims.topk(5, dim=1).indices  # (N, 5)
    i2t_1 = (owner[top[:, 0]] == torch.arange(len(images))).float().mean().item()
    i2t_5 = (owner[top] == torch.arange(len(images))[:, None]).any(dim=1).float().mean().item()
    best_image = sims.argmax(dim=0)  # (N*K,)
    t2i_1 = (best_image == owner).float().mean().item()
    return {"image_to_text_r1": i2t_1, "image_to_text_r5": i2t_5, "text_to_image_r1": t2i_1}


def run(
    out: Path, steps: int, batch_size: int, lr: float, images: int, test_images: int, log_path: Path, seed=0,
    init_from: Path | None = None,
):
    set_threads()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    log = JsonlLog(log_path, "clip")
    vit_ckpt = load_checkpoint(out / "vit.pt")
    cfg = CLIPConfig(vision=vit_ckpt["config"] if isinstance(vit_ckpt["config"], ViTConfig) else ViTConfig())
    model = CLIPModel(cfg)
    model.visual.load_state_dict(vit_ckpt["state_dict"])
    first_block = cfg.vision.depth - 1
    for name, param in model.visual.named_parameters():
        param.requires_grad = name.startswith((f"blocks.{first_block}.", "norm."))
    earlier_steps = 0
    if init_from is not None:
        # Continue from a trained CLIP checkpoint, with a fresh warm-up and schedule.
        earlier = load_checkpoint(init_from)
        model.load_state_dict(earlier["state_dict"])
        earlier_steps = earlier.get("steps", 0)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    train = build_split("train", images, cfg.vision.image_size, cfg.vision.grid_size, out / "cache")
    test = build_split("test", test_images, cfg.vision.image_size, cfg.vision.grid_size, out / "cache")
    suffix = f"block{first_block}"
    train_tokens = vit_token_cache(model.visual, train["images"], first_block, out / "cache" / f"vit_train_{images}_{suffix}.pt")
    test_tokens = vit_token_cache(model.visual, test["images"], first_block, out / "cache" / f"vit_test_{test_images}_{suffix}.pt")
    per_image = len(train["captions"][0])
    train_ids = clip_tokenize([c for row in train["captions"] for c in row]).view(len(train["captions"]), per_image, -1)
    test_ids = clip_tokenize([c for row in test["captions"] for c in row])
    log.write("start", trainable_params=trainable, steps=steps, batch_size=batch_size, lr=lr, images=images,
              text=vars(cfg.text), embed_dim=cfg.embed_dim)  # fmt: skip

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.1)
    warmup = max(1, steps // 15)
    losses = []
    model.train()
    for step in range(steps):
        set_lr(optimizer, lr_at(step, steps, lr, warmup))
        index = torch.from_numpy(rng.choice(len(train_ids), batch_size, replace=False))
        choice = torch.from_numpy(rng.integers(0, per_image, batch_size))
        image_embeds = model.encode_image(tokens=train_tokens[index].float(), first_block=first_block)
        text_embeds = model.encode_text(trim(train_ids[index, choice]))
        loss = model.contrastive_loss(image_embeds, text_embeds)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(loss.item())
        if step % 25 == 0 or step == steps - 1:
            log.write("step", step=step, loss=round(loss.item(), 4), scale=round(model.logit_scale.exp().item(), 2))

    train_seconds = log.elapsed()
    scores = retrieval(model, test_tokens, test_ids, per_image, first_block)
    save_checkpoint(out / "clip.pt", model, cfg, steps=earlier_steps + steps)
    result = {
        "trainable_params": trainable,
        "steps": earlier_steps + steps,
        "init_from": None if init_from is None else str(init_from),
        "batch_size": batch_size,
        "epochs": round((earlier_steps + steps) * batch_size / images, 3),
        "final_train_loss": round(float(np.mean(losses[-20:])), 4),
        "train_seconds": train_seconds,
        "test_images": len(test_tokens),
        "test_captions": len(test_ids),
        **{k: round(v, 4) for k, v in scores.items()},
    }
    log.write("done", **result)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("models/work"), help="work folder with vit.pt")
    parser.add_argument("--steps", type=int, default=400, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, default=64, help="image-caption pairs per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--images", type=int, default=6000, help="training images")
    parser.add_argument("--test-images", type=int, default=300, help="test images for retrieval")
    parser.add_argument("--log", type=Path, default=Path("models/logs/train_clip.jsonl"), help="JSON-lines log")
    parser.add_argument("--init-from", type=Path, default=None, help="continue from this CLIP checkpoint")
    parser.add_argument("--result", type=Path, default=None, help="also write the result JSON, with this command, here")
    args = parser.parse_args(argv)
    result = run(args.out, args.steps, args.batch_size, args.lr, args.images, args.test_images, args.log,
                 init_from=args.init_from)  # fmt: skip
    print(json.dumps(result, indent=2))
    if args.result:
        from .train_captioner import write_result

        write_result(args.result, result, argv, "edgecap_models.train_clip")


if __name__ == "__main__":
    main()
