"""Low-rank adaptation (LoRA) of the captioner's GPT-2 decoder.

`apply_lora` replaces chosen nn.Linear modules by `LoRALinear`, which keeps the frozen base layer
and adds scale * B(A(dropout(x))) with scale = alpha / rank, B initialised to zero so training
starts from the base model. Modules are chosen by name suffix, so "c_attn" matches every
`transformer.h.N.attn.c_attn`, "mlp.c_proj" only the MLP output projections and "lm_head" the
output head. `merge_lora` folds the update into the base weight for export, except for a weight
that is shared with another module (GPT-2's lm_head is tied to wte): merging there would change
the input embedding too, so such a layer keeps its factors and the export carries them.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn

# LoRA on attention in and out, the MLP in and out, and the output head, as the reference recipe.
DEFAULT_TARGETS: tuple[str, ...] = ("c_attn", "c_proj", "c_fc", "mlp.c_proj", "lm_head")


@dataclass
class LoRAConfig:
    rank: int = 16
    alpha: float = 32.0
    dropout: float = 0.05
    targets: tuple[str, ...] = DEFAULT_TARGETS
    train_last_vit_block: bool = False
    max_trainable_params: int = 10_000_000  # runs above this cap are rejected before training

    @property
    def scale(self) -> float:
        return self.alpha / self.rank


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable rank-r update: y = base(x) + scale * B(A(dropout(x)))."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float):
        super().__init__()
        if rank <= 0:
            raise ValueError(f"LoRA rank must be positive, got {rank}")
        self.base = base
        self.rank = rank
        self.scale = alpha / rank
        self.lora_dropout = nn.Dropout(dropout)
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))  # (r, in)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))  # (out, r)
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.merged = False

    @property
    def weight(self):
        return self.base.weight

    def forward(self, x):
        y = self.base(x)
        if self.merged:
            return y
        return y + (self.lora_dropout(x) @ self.lora_A.t() @ self.lora_B.t()) * self.scale

    def delta_weight(self):
        return (self.lora_B @ self.lora_A) * self.scale  # (out, in)


def _matches(name: str, targets) -> bool:
    return any(name == t or name.endswith("." + t) for t in targets)


def apply_lora(decoder: nn.Module, cfg: LoRAConfig) -> list[str]:
    """Freeze `decoder` and wrap its target nn.Linear modules; return the wrapped module names."""
    for param in decoder.parameters():
        param.requires_grad = False
    wrapped = []
    for name, module in list(decoder.named_modules()):
        if not isinstance(module, nn.Linear) or not _matches(name, cfg.targets):
            continue
        parent_name, _, child = name.rpartition(".")
        parent = decoder.get_submodule(parent_name) if parent_name else decoder
        setattr(parent, child, LoRALinear(module, cfg.rank, cfg.alpha, cfg.dropout))
        wrapped.append(name)
    if not wrapped:
        raise ValueError(f"no nn.Linear in the decoder matches the LoRA targets {cfg.targets}")
    return wrapped


def _shared_weight_ids(model: nn.Module) -> set[int]:
    """Return the ids of parameters that more than one module uses (tied weights)."""
    owners: dict[int, int] = {}
    for module in model.modules():
        for param in module.parameters(recurse=False):
            owners[id(param)] = owners.get(id(param), 0) + 1
    return {pid for pid, count in owners.items() if count > 1}


@torch.no_grad()
def merge_lora(model: nn.Module) -> list[str]:
    """Fold every LoRA update whose base weight is not tied into that weight.

    Returns the names of the layers left unmerged (tied weights), whose factors stay active.
    """
    shared = _shared_weight_ids(model)
    kept = []
    for name, module in model.named_modules():
        if not isinstance(module, LoRALinear) or module.merged:
            continue
        if id(module.base.weight) in shared:
            kept.append(name)
            continue
        module.base.weight += module.delta_weight()
        module.merged = True
    return kept


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """Return (trainable, total) parameter counts, counting tied parameters once."""
    seen, trainable, total = set(), 0, 0
    for param in model.parameters():
        if id(param) in seen:
            continue
        seen.add(id(param))
        total += param.numel()
        if param.requires_grad:
            trainable += param.numel()
    return trainable, total


def check_trainable_cap(model: nn.Module, cap: int, label: str = "model") -> int:
    """Print the trainable-parameter count and raise ValueError when it exceeds `cap`."""
    trainable, total = count_parameters(model)
    print(f"{label}: {trainable:,} trainable of {total:,} parameters (cap {cap:,})", flush=True)
    if trainable > cap:
        raise ValueError(
            f"{label} has {trainable:,} trainable parameters, over the cap of {cap:,}; "
            "lower the LoRA rank, drop targets, or raise max_trainable_params"
        )
    return trainable
