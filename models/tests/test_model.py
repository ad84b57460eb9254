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
)


def tiny_config(**overrides) -> CaptionerConfig:
    return CaptionerConfig(
        vit=ViTConfig(image_size=32, patch_size=8, embed_dim=16, depth=2, num_heads=2),
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
