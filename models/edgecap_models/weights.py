"""Weight maps from public checkpoints into edgecap's modules, with a shape assert on every tensor.

- timm `vit_*` state dicts (e.g. vit_base_patch16_224) load into `VisionTransformer` by name; the
  classifier `head.*` is skipped because the captioner reads the normed tokens.
- Hugging Face GPT-2 state dicts (the `gpt2` checkpoint's keys `wte.weight`, `h.0.attn.c_attn.weight`,
  or a GPT2LMHeadModel's `transformer.`-prefixed keys) load into `GPT2LMHeadModel`. Hugging Face
  stores the attention and MLP projections as Conv1D with weight (in, out), so those four are
  transposed into nn.Linear's (out, in). The causal-mask buffers `attn.bias` and `attn.masked_bias`
  are checked and skipped: the model builds its mask from positions.
"""

import torch

from .model import GPT2LMHeadModel, VisionTransformer

# Hugging Face GPT-2 Conv1D weights, stored (in, out).
GPT2_CONV1D_SUFFIXES = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
GPT2_SKIPPED_SUFFIXES = (".attn.bias", ".attn.masked_bias")  # mask buffers, not weights
VIT_SKIPPED_PREFIXES = ("head.",)


def _assign(target: dict, name: str, tensor: torch.Tensor, transpose: bool = False) -> None:
    if name not in target:
        raise KeyError(f"checkpoint tensor {name!r} has no counterpart in the model")
    value = tensor.t() if transpose else tensor
    expected = tuple(target[name].shape)
    assert tuple(value.shape) == expected, (
        f"{name}: checkpoint shape {tuple(tensor.shape)}{' transposed' if transpose else ''} "
        f"!= model shape {expected}; the model config does not match the checkpoint"
    )
    with torch.no_grad():
        target[name].copy_(value)


@torch.no_grad()
def load_gpt2_state_dict(model: GPT2LMHeadModel, state_dict: dict) -> list[str]:
    """Copy a Hugging Face GPT-2 state dict into `model`; return the skipped checkpoint keys.

    Every model parameter must be filled, and every checkpoint tensor must match its shape.
    """
    own = dict(model.state_dict(keep_vars=True))
    loaded, skipped = set(), []
    n_positions = model.cfg.n_positions
    for key, tensor in state_dict.items():
        name = key if key.startswith(("transformer.", "lm_head.")) else f"transformer.{key}"
        if name.endswith(GPT2_SKIPPED_SUFFIXES):
            if name.endswith(".attn.bias"):
                # The Hugging Face mask buffer is (1, 1, n_positions, n_positions) lower-triangular.
                assert tuple(tensor.shape) == (1, 1, n_positions, n_positions), (
                    f"{key}: mask buffer shape {tuple(tensor.shape)} does not match n_positions={n_positions}"
                )
            skipped.append(key)
            continue
        if name == "lm_head.weight":
            # Tied to wte in GPT-2: check that the checkpoint agrees instead of loading it twice.
            wte = state_dict.get("transformer.wte.weight", state_dict.get("wte.weight"))
            assert wte is None or torch.equal(tensor, wte), "lm_head.weight differs from wte.weight; GPT-2 ties them"
            skipped.append(key)
            continue
        _assign(own, name, tensor, transpose=name.endswith(GPT2_CONV1D_SUFFIXES))
        loaded.add(name)

    expected = {name for name in own if name != "lm_head.weight"}
    missing = sorted(expected - loaded)
    assert not missing, f"GPT-2 checkpoint lacks {missing}"
    return skipped


@torch.no_grad()
def load_vit_state_dict(model: VisionTransformer, state_dict: dict) -> list[str]:
    """Copy a timm ViT state dict into `model`; return the skipped checkpoint keys."""
    own = dict(model.state_dict(keep_vars=True))
    loaded, skipped = set(), []
    for key, tensor in state_dict.items():
        if key.startswith(VIT_SKIPPED_PREFIXES):
            skipped.append(key)
            continue
        _assign(own, key, tensor)
        loaded.add(key)
    missing = sorted(set(own) - loaded)
    assert not missing, f"ViT checkpoint lacks {missing}"
    return skipped


def gpt2_state_dict_as_hf(model: GPT2LMHeadModel) -> dict:
    """Return `model`'s weights under the Hugging Face `gpt2` checkpoint keys and Conv1D shapes.

    Used by tests to round-trip the map; a real checkpoint also carries the attn.bias buffers.
    """
    out = {}
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight":
            continue
        key = name.removeprefix("transformer.")
        out[key] = tensor.t().contiguous() if name.endswith(GPT2_CONV1D_SUFFIXES) else tensor.clone()
    return out
