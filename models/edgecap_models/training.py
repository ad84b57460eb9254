"""Helpers every training stage shares: thread count, schedule, JSON-lines logs, checkpoints."""

import json
import math
import os
import time
from pathlib import Path

import torch

DEFAULT_THREADS = 2


def set_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads from the argument or EDGECAP_THREADS (default 2)."""
    threads = threads or int(os.environ.get("EDGECAP_THREADS", DEFAULT_THREADS))
    torch.set_num_threads(threads)
    return threads


def lr_at(step: int, total: int, peak: float, warmup: int, floor: float = 0.1) -> float:
    """Linear warm-up to `peak` over `warmup` steps, then cosine decay to floor * peak at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def set_lr(optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)


class JsonlLog:
    """Append one JSON object per line to `path` and echo a short form to stdout."""

    def __init__(self, path: Path, stage: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.stage = stage
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return round(time.perf_counter() - self.started, 1)

    def write(self, event: str, **fields) -> None:
        record = {"stage": self.stage, "event": event, "elapsed_s": round(time.perf_counter() - self.started, 2)}
        record.update(fields)
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)


def save_checkpoint(path: Path, model: torch.nn.Module, config, **extra) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "config": config, **extra}, path)


def load_checkpoint(path: Path) -> dict:
    if not Path(path).exists():
        raise FileNotFoundError(f"checkpoint {path} not found; run the stage that writes it first")
    return torch.load(path, map_location="cpu")
