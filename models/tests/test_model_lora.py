"""Tests of LoRA: wrapping by name, merge equivalence, tied lm_head, parameter counts, the cap."""

import pytest
import torch
import torch.nn as nn

from edgecap_models.lora import LoRAConfig, LoRALinear, apply_lora, check_trainable_cap, count_parameters, merge_lora
from edgecap_models.model import Captioner
from edgecap_models.train_captioner import build_captioner

from test_model import tiny_config


def lora_model(targets=LoRAConfig().targets, rank=4, alpha=8.0, seed=0):
    torch.manual_seed(seed)
    model = Captioner(tiny_config())
    apply_lora(model.gpt2, LoRAConfig(rank=rank, alpha=alpha, dropout=0.0, targets=targets))
    for module in model.modules():
        if isinstance(module, LoRALinear):
            nn.init.normal_(module.lora_B, std=0.05)  # non-zero, so the update matters
    return model.eval()


def test_default_targets_wrap_every_projection_and_head():
    model = lora_model()
    wrapped = sorted(name for name, m in model.gpt2.named_modules() if isinstance(m, LoRALinear))
    assert wrapped == sorted(
        [f"transformer.h.{i}.{p}" for i in range(2) for p in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")]
        + ["lm_head"]
    )


def test_targets_select_by_suffix():
    model = lora_model(targets=("mlp.c_proj",))
    wrapped = [name for name, m in model.gpt2.named_modules() if isinstance(m, LoRALinear)]
    assert wrapped == ["transformer.h.0.mlp.c_proj", "transformer.h.1.mlp.c_proj"]


def test_unknown_target_raises():
    model = Captioner(tiny_config())
    with pytest.raises(ValueError, match="no nn.Linear"):
        apply_lora(model.gpt2, LoRAConfig(targets=("q_proj",)))


def test_merge_equals_unmerged_forward():
    model = lora_model()
    prefix = model.encode_image(torch.randn(2, 3, 32, 32))
    ids = torch.tensor([[1, 2, 3], [4, 5, 6]])
    before = model.decode_step(prefix, ids)[0]
    kept = merge_lora(model)
    after = model.decode_step(prefix, ids)[0]
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)
    assert kept == ["gpt2.lm_head"]  # tied to wte, so its factors stay


def test_merge_leaves_tied_embedding_unchanged():
    model = lora_model()
    wte = model.gpt2.transformer.wte.weight.clone()
    merge_lora(model)
    assert torch.equal(model.gpt2.transformer.wte.weight, wte)
    assert model.gpt2.lm_head.weight is model.gpt2.transformer.wte.weight


def test_lora_starts_as_the_base_model():
    torch.manual_seed(0)
    model = Captioner(tiny_config()).eval()
    prefix = model.encode_image(torch.randn(1, 3, 32, 32))
    ids = torch.tensor([[1, 2]])
    base = model.decode_step(prefix, ids)[0]
    apply_lora(model.gpt2, LoRAConfig(rank=4, dropout=0.0))
    torch.testing.assert_close(model.decode_step(prefix, ids)[0], base)


def test_trainable_parameter_count():
    model = Captioner(tiny_config())
    for param in model.vit.parameters():
        param.requires_grad = False
    apply_lora(model.gpt2, LoRAConfig(rank=4))
    trainable, total = count_parameters(model)
    d, v, r = 16, 300, 4
    per_layer = r * (d + 3 * d) + r * (d + d) + r * (d + 4 * d) + r * (4 * d + d)  # c_attn, c_proj, c_fc, mlp.c_proj
    lm_head = r * (d + v)
    projection = sum(p.numel() for p in model.projection.parameters())
    assert trainable == 2 * per_layer + lm_head + projection
    assert total > trainable


def test_cap_rejects_large_runs():
    model = Captioner(tiny_config())
    apply_lora(model.gpt2, LoRAConfig(rank=4))
    with pytest.raises(ValueError, match="over the cap"):
        check_trainable_cap(model, cap=100)


def test_build_captioner_applies_cap():
    with pytest.raises(ValueError, match="over the cap"):
        build_captioner(tiny_config(), LoRAConfig(rank=8, max_trainable_params=1000))


def test_last_vit_block_option_adds_its_parameters():
    frozen = build_captioner(tiny_config(), LoRAConfig(rank=4))
    unfrozen = build_captioner(tiny_config(), LoRAConfig(rank=4, train_last_vit_block=True))
    block = sum(p.numel() for p in unfrozen.vit.blocks[-1].parameters()) + sum(p.numel() for p in unfrozen.vit.norm.parameters())
    assert count_parameters(unfrozen)[0] - count_parameters(frozen)[0] == block
    assert not any(p.requires_grad for p in unfrozen.vit.blocks[0].parameters())
