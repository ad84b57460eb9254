"""Tests of the captioner model: shapes, the shared-prefix loss, the KV-cache step interface."""

import torch
import torch.nn.functional as F

from edgecap_models.model import (
    GPT2_END_OF_TEXT_ID,
    IGNORE_INDEX,
    Captioner,
    CaptionerConfig,
    GPT2Config,
    ViTConfig,
    VisionTransformer,
    sincos_pos_embed,
)


def tiny_config(**overrides) -> CaptionerConfig:
    overrides.setdefault("vit", ViTConfig(image_size=32, patch_size=8, embed_dim=16, depth=2, num_heads=2))
    return CaptionerConfig(
        gpt2=GPT2Config(vocab_size=300, n_positions=64, n_embd=16, n_layer=2, n_head=2),
        max_caption_tokens=12,
        **overrides,
    )


def make_model(seed=0, **overrides) -> Captioner:
    torch.manual_seed(seed)
    return Captioner(tiny_config(**overrides)).eval()


def test_vision_prefix_shape():
    model = make_model()
    prefix = model.encode_image(torch.randn(3, 3, 32, 32))
    assert prefix.shape == (3, 17, 16)  # 4 x 4 patches + CLS
    assert model.prefix_length == 17


def test_linear_projection_shape():
    model = make_model(projection="linear")
    assert model.encode_image(torch.randn(1, 3, 32, 32)).shape == (1, 17, 16)


def test_config_rejects_too_few_positions():
    try:
        CaptionerConfig(gpt2=GPT2Config(n_positions=100))
    except ValueError as error:
        assert "n_positions" in str(error)
    else:
        raise AssertionError("a prefix longer than n_positions was accepted")


def naive_loss(model, prefix, input_ids, labels, per_image):
    """Loss from full [prefix, caption] sequences, one per caption, without the shared-prefix trick."""
    prefix = prefix.repeat_interleave(per_image, dim=0)
    tokens = model.gpt2.transformer.wte(input_ids)
    hidden, _, _ = model.gpt2.forward_embeds(torch.cat([prefix, tokens], dim=1))
    logits = model.gpt2.lm_head(hidden[:, prefix.shape[1] :])
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)


def test_shared_prefix_loss_equals_full_sequences():
    model = make_model()
    prefix = model.encode_image(torch.randn(2, 3, 32, 32))
    input_ids = torch.randint(0, 299, (6, 5))
    labels = torch.randint(0, 299, (6, 5))
    labels[0, 3:] = IGNORE_INDEX
    shared = model(prefix, input_ids, labels)
    full = naive_loss(model, prefix, input_ids, labels, per_image=3)
    torch.testing.assert_close(shared, full, rtol=1e-5, atol=1e-6)


def test_decode_steps_match_full_forward():
    model = make_model()
    prefix = model.encode_image(torch.randn(2, 3, 32, 32))
    ids = torch.tensor([[GPT2_END_OF_TEXT_ID % 300, 5, 6, 7], [GPT2_END_OF_TEXT_ID % 300, 9, 8, 1]])

    # Reference: one pass over prefix + all four tokens.
    hidden, _, attentions = model.gpt2.forward_embeds(torch.cat([prefix, model.gpt2.transformer.wte(ids)], dim=1))
    reference_logits = model.gpt2.lm_head(hidden)  # (B, P+4, V)

    # Step interface: prefix + first token, then one token, then two tokens, with the cache.
    logits, past, att0 = model.decode_step(prefix, ids[:, :1])
    torch.testing.assert_close(logits, reference_logits[:, 17])
    logits, past, _ = model.decode_step(prefix[:, :0], ids[:, 1:2], past)
    torch.testing.assert_close(logits, reference_logits[:, 18])
    logits, past, att2 = model.decode_step(prefix[:, :0], ids[:, 2:4], past)
    torch.testing.assert_close(logits, reference_logits[:, 20])

    assert past[0][0].shape == (2, 2, 21, 8)  # (B, nh, S+P+T, hs)
    assert att0.shape == (2, 2, 1, 17)  # (L, B, T, prefix)
    assert att2.shape == (2, 2, 2, 17)
    expected = torch.stack([a[:, :, 19:21, :17].mean(dim=1) for a in attentions])
    torch.testing.assert_close(att2, expected)


def test_prefix_attention_is_a_share_of_the_row():
    model = make_model()
    prefix = model.encode_image(torch.randn(1, 3, 32, 32))
    _, _, attention = model.decode_step(prefix, torch.tensor([[1]]))
    assert torch.all(attention >= 0)
    assert torch.all(attention.sum(dim=-1) <= 1 + 1e-6)


def test_generate_returns_tokens_and_rows():
    model = make_model()
    prefix = model.encode_image(torch.randn(2, 3, 32, 32))
    sequences, rows = model.generate(prefix, max_new_tokens=5, end_id=299)
    assert len(sequences) == 2
    for tokens, token_rows in zip(sequences, rows):
        assert len(tokens) <= 5
        if tokens:
            assert token_rows.shape == (len(tokens), 2, 17)


def test_language_model_loss_ignores_padding():
    model = make_model()
    ids = torch.randint(0, 299, (2, 6))
    labels = ids.clone()
    _, loss = model.gpt2(ids, labels)
    labels[:, 4:] = IGNORE_INDEX
    _, partial = model.gpt2(ids, labels)
    assert torch.isfinite(loss)
    assert torch.isfinite(partial)
    assert not torch.isclose(loss, partial)


def test_conv_stem_keeps_the_patch_grid():
    torch.manual_seed(0)
    cfg = tiny_config(vit=ViTConfig(image_size=32, patch_size=8, embed_dim=16, depth=2, num_heads=2,
                                    stem_channels=(4, 8, 8, 8)))  # fmt: skip
    model = Captioner(cfg).eval()
    assert model.encode_image(torch.randn(2, 3, 32, 32)).shape == (2, 17, 16)
    names = {name for name, _ in model.vit.named_parameters()}
    # Three stride-2 convolutions (patch 8), one at stride 1, then the 1 x 1 projection.
    assert {"patch_embed.backbone.0.weight", "patch_embed.backbone.6.weight", "patch_embed.proj.weight"} <= names
    assert model.vit.patch_embed.proj.kernel_size == (1, 1)


def test_conv_stem_rejects_a_geometry_it_cannot_reach():
    for patch, widths in ((6, (4, 4, 4)), (8, (4, 4))):
        try:
            VisionTransformer(ViTConfig(image_size=48, patch_size=patch, embed_dim=16, depth=1, num_heads=2,
                                        stem_channels=widths))  # fmt: skip
        except ValueError as error:
            assert f"patch_size={patch}" in str(error)
        else:
            raise AssertionError(f"patch {patch} with stem {widths} was accepted")


def test_sincos_position_embeddings():
    table = sincos_pos_embed(4, 16)
    assert table.shape == (17, 16)
    assert torch.all(table[0] == 0)  # CLS
    patches = table[1:]
    near = (patches[0] - patches[1]).norm()  # (0, 0) and (0, 1)
    far = (patches[0] - patches[15]).norm()  # (0, 0) and (3, 3)
    assert near < far
