"""Tests of the checkpoint weight maps, including full-size ViT-B/16 and GPT-2 small shapes."""

import pytest
import torch

from edgecap_models.lora import LoRAConfig, count_parameters
from edgecap_models.model import Captioner, GPT2Config, GPT2LMHeadModel, VisionTransformer, ViTConfig, full_size_config
from edgecap_models.train_captioner import build_captioner
from edgecap_models.weights import gpt2_state_dict_as_hf, load_gpt2_state_dict, load_vit_state_dict


def timm_vit_state_dict(depth=12, dim=768, patch=16, image=224, classes=1000) -> dict:
    """Random tensors under timm vit_base_patch16_224's keys and shapes."""
    tokens = (image // patch) ** 2 + 1
    sd = {
        "cls_token": torch.randn(1, 1, dim),
        "pos_embed": torch.randn(1, tokens, dim),
        "patch_embed.proj.weight": torch.randn(dim, 3, patch, patch),
        "patch_embed.proj.bias": torch.randn(dim),
        "norm.weight": torch.ones(dim),
        "norm.bias": torch.zeros(dim),
        "head.weight": torch.randn(classes, dim),
        "head.bias": torch.randn(classes),
    }
    for i in range(depth):
        p = f"blocks.{i}."
        sd.update(
            {
                p + "norm1.weight": torch.ones(dim),
                p + "norm1.bias": torch.zeros(dim),
                p + "attn.qkv.weight": torch.randn(3 * dim, dim) * 0.02,
                p + "attn.qkv.bias": torch.zeros(3 * dim),
                p + "attn.proj.weight": torch.randn(dim, dim) * 0.02,
                p + "attn.proj.bias": torch.zeros(dim),
                p + "norm2.weight": torch.ones(dim),
                p + "norm2.bias": torch.zeros(dim),
                p + "mlp.fc1.weight": torch.randn(4 * dim, dim) * 0.02,
                p + "mlp.fc1.bias": torch.zeros(4 * dim),
                p + "mlp.fc2.weight": torch.randn(dim, 4 * dim) * 0.02,
                p + "mlp.fc2.bias": torch.zeros(dim),
            }
        )
    return sd


def hf_gpt2_state_dict(layers=12, dim=768, vocab=50257, positions=1024) -> dict:
    """Random tensors under the Hugging Face `gpt2` checkpoint's keys, Conv1D (in, out) shapes included."""
    sd = {
        "wte.weight": torch.randn(vocab, dim) * 0.02,
        "wpe.weight": torch.randn(positions, dim) * 0.01,
        "ln_f.weight": torch.ones(dim),
        "ln_f.bias": torch.zeros(dim),
    }
    mask = torch.tril(torch.ones(positions, positions, dtype=torch.bool)).view(1, 1, positions, positions)
    for i in range(layers):
        p = f"h.{i}."
        sd.update(
            {
                p + "ln_1.weight": torch.ones(dim),
                p + "ln_1.bias": torch.zeros(dim),
                p + "attn.bias": mask,  # the causal-mask buffer the real file carries
                p + "attn.c_attn.weight": torch.randn(dim, 3 * dim) * 0.02,
                p + "attn.c_attn.bias": torch.zeros(3 * dim),
                p + "attn.c_proj.weight": torch.randn(dim, dim) * 0.02,
                p + "attn.c_proj.bias": torch.zeros(dim),
                p + "ln_2.weight": torch.ones(dim),
                p + "ln_2.bias": torch.zeros(dim),
                p + "mlp.c_fc.weight": torch.randn(dim, 4 * dim) * 0.02,
                p + "mlp.c_fc.bias": torch.zeros(4 * dim),
                p + "mlp.c_proj.weight": torch.randn(4 * dim, dim) * 0.02,
                p + "mlp.c_proj.bias": torch.zeros(dim),
            }
        )
    return sd


SMALL_GPT2 = dict(layers=2, dim=32, vocab=100, positions=64)


def small_gpt2():
    return GPT2LMHeadModel(GPT2Config(vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=2))


def test_gpt2_conv1d_weights_are_transposed():
    model = small_gpt2()
    sd = hf_gpt2_state_dict(**SMALL_GPT2)
    skipped = load_gpt2_state_dict(model, sd)
    assert torch.equal(model.transformer.h[0].attn.c_attn.weight, sd["h.0.attn.c_attn.weight"].t())
    assert torch.equal(model.transformer.h[1].mlp.c_proj.weight, sd["h.1.mlp.c_proj.weight"].t())
    assert torch.equal(model.lm_head.weight, sd["wte.weight"])  # still tied
    assert sorted(skipped) == ["h.0.attn.bias", "h.1.attn.bias"]


def test_gpt2_map_round_trips():
    source, target = small_gpt2(), small_gpt2()
    load_gpt2_state_dict(target, gpt2_state_dict_as_hf(source))
    for (name, a), b in zip(source.state_dict().items(), target.state_dict().values()):
        assert torch.equal(a, b), name


def test_gpt2_prefixed_keys_load():
    model = small_gpt2()
    sd = {f"transformer.{k}": v for k, v in hf_gpt2_state_dict(**SMALL_GPT2).items()}
    sd["lm_head.weight"] = sd["transformer.wte.weight"]
    load_gpt2_state_dict(model, sd)


def test_gpt2_shape_mismatch_raises():
    sd = hf_gpt2_state_dict(**SMALL_GPT2)
    sd["h.0.mlp.c_fc.weight"] = sd["h.0.mlp.c_fc.weight"].t()  # stored (out, in) by mistake
    with pytest.raises(AssertionError, match="h.0.mlp.c_fc.weight"):
        load_gpt2_state_dict(small_gpt2(), sd)


def test_gpt2_missing_tensor_raises():
    sd = hf_gpt2_state_dict(**SMALL_GPT2)
    del sd["h.1.ln_2.bias"]
    with pytest.raises(AssertionError, match="lacks"):
        load_gpt2_state_dict(small_gpt2(), sd)


def test_vit_map_skips_classifier_head():
    model = VisionTransformer(ViTConfig(image_size=32, patch_size=8, embed_dim=16, depth=2, num_heads=2))
    sd = timm_vit_state_dict(depth=2, dim=16, patch=8, image=32, classes=10)
    skipped = load_vit_state_dict(model, sd)
    assert sorted(skipped) == ["head.bias", "head.weight"]
    assert torch.equal(model.blocks[1].attn.qkv.weight, sd["blocks.1.attn.qkv.weight"])


def test_vit_wrong_geometry_raises():
    model = VisionTransformer(ViTConfig())  # 112 px, patch 8
    with pytest.raises(AssertionError, match="pos_embed|patch_embed"):
        load_vit_state_dict(model, timm_vit_state_dict(depth=4, dim=192, patch=16, image=224))


@torch.no_grad()
def test_full_size_checkpoints_load_and_run():
    torch.manual_seed(0)
    model = Captioner(full_size_config())
    load_vit_state_dict(model.vit, timm_vit_state_dict())
    load_gpt2_state_dict(model.gpt2, hf_gpt2_state_dict())
    model.eval()

    prefix = model.encode_image(torch.randn(1, 3, 224, 224))
    assert prefix.shape == (1, 197, 768)
    logits, presents, attention = model.decode_step(prefix, torch.tensor([[50256, 64]]))
    assert logits.shape == (1, 50257)
    assert presents[11][0].shape == (1, 12, 199, 64)  # (B, nh, P+T, hs)
    assert attention.shape == (12, 1, 2, 197)
    assert torch.isfinite(logits).all()


def test_full_size_lora_fits_the_default_cap():
    model = build_captioner(full_size_config(), LoRAConfig(rank=16, alpha=32.0))
    trainable, _ = count_parameters(model)
    assert trainable < LoRAConfig().max_trainable_params
