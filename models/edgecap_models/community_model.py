"""A small VisionEncoderDecoder-shaped captioner with transformers' parameter names, for community-layout fixtures.

The encoder is transformers' ViTModel(add_pooling_layer=False) (embeddings.*, encoder.layer.N.*,
layernorm); the decoder is GPT2LMHeadModel(add_cross_attention=True) (transformer.wte, .wpe,
.h.N.attn, .h.N.crossattention, .h.N.ln_cross_attn, lm_head tied to wte). Weights are random;
community_export.py exports the model in optimum's layout.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import GPT2_END_OF_TEXT_ID, gelu_new
from .onnx_storage import round_for_storage


@dataclass
class CommunityCaptionerConfig:
    image_size: int = 112
    patch_size: int = 8
    encoder_hidden: int = 32
    encoder_layers: int = 2
    encoder_heads: int = 2
    vocab_size: int = 50257
    n_positions: int = 64
    n_embd: int = 32  # equal to encoder_hidden, so the VisionEncoderDecoder has no enc_to_dec_proj
    n_layer: int = 2
    n_head: int = 2
    vit_layer_norm_eps: float = 1e-12  # transformers ViTConfig default
    gpt2_layer_norm_eps: float = 1e-5

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def encoder_tokens(self) -> int:
        return self.grid * self.grid + 1


# ----------------------------------------------------------------------------------------------
# ViT encoder with transformers' ViTModel parameter names (embeddings.*, encoder.layer.N.*, layernorm)


class ViTSelfAttention(nn.Module):
    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, x):
        B, N, C = x.shape

        def split(t):
            return t.reshape(B, N, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        weights = ((q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim)).softmax(dim=-1)
        return (weights @ v).transpose(1, 2).reshape(B, N, C)


class ViTAttentionBlock(nn.Module):
    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.attention = ViTSelfAttention(hidden, heads)
        self.output = nn.Module()
        self.output.dense = nn.Linear(hidden, hidden)

    def forward(self, x):
        return self.output.dense(self.attention(x))


class ViTLayer(nn.Module):
    def __init__(self, cfg: CommunityCaptionerConfig):
        super().__init__()
        h = cfg.encoder_hidden
        self.layernorm_before = nn.LayerNorm(h, eps=cfg.vit_layer_norm_eps)
        self.attention = ViTAttentionBlock(h, cfg.encoder_heads)
        self.layernorm_after = nn.LayerNorm(h, eps=cfg.vit_layer_norm_eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(h, 4 * h)
        self.output = nn.Module()
        self.output.dense = nn.Linear(4 * h, h)

    def forward(self, x):
        x = x + self.attention(self.layernorm_before(x))
        hidden = F.gelu(self.intermediate.dense(self.layernorm_after(x)))  # hidden_act "gelu" (erf)
        return x + self.output.dense(hidden)


class ViTEncoder(nn.Module):
    """ViTModel(add_pooling_layer=False): its output is last_hidden_state, CLS first."""

    def __init__(self, cfg: CommunityCaptionerConfig):
        super().__init__()
        h = cfg.encoder_hidden
        self.embeddings = nn.Module()
        self.embeddings.cls_token = nn.Parameter(torch.randn(1, 1, h) * 0.02)
        self.embeddings.position_embeddings = nn.Parameter(torch.randn(1, cfg.encoder_tokens, h) * 0.02)
        self.embeddings.patch_embeddings = nn.Module()
        self.embeddings.patch_embeddings.projection = nn.Conv2d(3, h, cfg.patch_size, stride=cfg.patch_size)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(ViTLayer(cfg) for _ in range(cfg.encoder_layers))
        self.layernorm = nn.LayerNorm(h, eps=cfg.vit_layer_norm_eps)

    def forward(self, pixel_values):
        patches = self.embeddings.patch_embeddings.projection(pixel_values).flatten(2).transpose(1, 2)
        cls = self.embeddings.cls_token.expand(pixel_values.shape[0], -1, -1)
        x = torch.cat([cls, patches], dim=1) + self.embeddings.position_embeddings
        for layer in self.encoder.layer:
            x = layer(x)
        return self.layernorm(x)


# ----------------------------------------------------------------------------------------------
# GPT-2 with cross-attention, transformers' GPT2LMHeadModel names (Conv1D weights are [in, out])


class Conv1D(nn.Module):
    def __init__(self, out_features: int, in_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_features, out_features) * 0.05)
        self.bias = nn.Parameter(torch.randn(out_features) * 0.02)

    def forward(self, x):
        return x @ self.weight + self.bias


def split_heads(t, heads: int):
    B, T, C = t.shape
    return t.reshape(B, T, heads, C // heads).transpose(1, 2)  # (B, H, T, hd)


def merge_heads(t):
    B, H, T, hd = t.shape
    return t.transpose(1, 2).reshape(B, T, H * hd)


class GPT2SelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.head_dim = n_embd // n_head
        self.c_attn = Conv1D(3 * n_embd, n_embd)
        self.c_proj = Conv1D(n_embd, n_embd)

    def forward(self, x, past_key=None, past_value=None):
        q, k, v = self.c_attn(x).split(x.shape[-1], dim=2)
        q, k, v = split_heads(q, self.n_head), split_heads(k, self.n_head), split_heads(v, self.n_head)
        if past_key is not None:
            k = torch.cat([past_key, k], dim=2)
            v = torch.cat([past_value, v], dim=2)

        # Query i of the T new tokens is at position S - T + i and attends to keys 0..S - T + i.
        new, total = q.shape[2], k.shape[2]
        query_positions = torch.arange(new) + (total - new)
        mask = torch.arange(total)[None, :] <= query_positions[:, None]  # (T, S)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        out = merge_heads(scores.softmax(dim=-1) @ v)
        return self.c_proj(out), k, v


class GPT2CrossAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.head_dim = n_embd // n_head
        self.q_attn = Conv1D(n_embd, n_embd)
        self.c_attn = Conv1D(2 * n_embd, n_embd)
        self.c_proj = Conv1D(n_embd, n_embd)

    def forward(self, x, encoder_hidden_states, cross_past=None):
        """Return the output, the weights (B, H, T, N) and the keys and values used.

        cross_past: keys and values from an earlier step, which replace the projection of
        encoder_hidden_states (as seq2seq decoders cache them).
        """
        q = split_heads(self.q_attn(x), self.n_head)
        if cross_past is None:
            k, v = self.c_attn(encoder_hidden_states).split(x.shape[-1], dim=2)
            k, v = split_heads(k, self.n_head), split_heads(v, self.n_head)
        else:
            k, v = cross_past
        weights = ((q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim)).softmax(dim=-1)
        return self.c_proj(merge_heads(weights @ v)), weights, (k, v)


class GPT2MLP(nn.Module):
    def __init__(self, n_embd: int):
        super().__init__()
        self.c_fc = Conv1D(4 * n_embd, n_embd)
        self.c_proj = Conv1D(n_embd, 4 * n_embd)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))  # activation_function "gelu_new"


class GPT2CrossBlock(nn.Module):
    def __init__(self, cfg: CommunityCaptionerConfig):
        super().__init__()
        d, eps = cfg.n_embd, cfg.gpt2_layer_norm_eps
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = GPT2SelfAttention(d, cfg.n_head)
        self.ln_cross_attn = nn.LayerNorm(d, eps=eps)
        self.crossattention = GPT2CrossAttention(d, cfg.n_head)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = GPT2MLP(d)

    def forward(self, x, encoder_hidden_states, past_key=None, past_value=None, cross_past=None):
        attended, key, value = self.attn(self.ln_1(x), past_key, past_value)
        x = x + attended
        crossed, cross_weights, cross_kv = self.crossattention(self.ln_cross_attn(x), encoder_hidden_states, cross_past)
        x = x + crossed
        x = x + self.mlp(self.ln_2(x))
        return x, key, value, cross_weights, cross_kv


class GPT2CrossDecoder(nn.Module):
    """GPT2LMHeadModel(add_cross_attention=True); lm_head is tied to transformer.wte."""

    def __init__(self, cfg: CommunityCaptionerConfig):
        super().__init__()
        self.cfg = cfg
        self.transformer = nn.Module()
        # Both tables are wider than GPT-2's 0.02. A wide wte keeps the random logits apart, so
        # greedy choices in parity tests do not hinge on near-ties. A wide wpe makes the greedy
        # token change with the position, so a wrong position or past shows in the generated ids.
        self.transformer.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        nn.init.normal_(self.transformer.wte.weight, std=0.1)
        self.transformer.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        nn.init.normal_(self.transformer.wpe.weight, std=0.5)
        self.transformer.h = nn.ModuleList(GPT2CrossBlock(cfg) for _ in range(cfg.n_layer))
        self.transformer.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.gpt2_layer_norm_eps)

    def forward(self, input_ids, encoder_hidden_states, past=None):
        """Return logits (B, T, V), presents [(key, value)] and cross-attention weights per layer."""
        logits, presents, cross, _ = self.forward_with_cross_past(input_ids, encoder_hidden_states, past)
        return logits, presents, cross

    def forward_with_cross_past(self, input_ids, encoder_hidden_states, past=None, cross_past=None):
        """forward, also taking and returning the cross-attention keys and values per layer."""
        past_length = 0 if past is None else past[0][0].shape[2]
        positions = torch.arange(input_ids.shape[1]) + past_length
        x = self.transformer.wte(input_ids) + self.transformer.wpe(positions)[None]
        presents, cross, cross_presents = [], [], []
        for i, block in enumerate(self.transformer.h):
            past_key, past_value = (None, None) if past is None else past[i]
            layer_cross_past = None if cross_past is None else cross_past[i]
            x, key, value, weights, cross_kv = block(x, encoder_hidden_states, past_key, past_value, layer_cross_past)
            presents.append((key, value))
            cross.append(weights)
            cross_presents.append(cross_kv)
        logits = self.transformer.ln_f(x) @ self.transformer.wte.weight.t()
        return logits, presents, cross, cross_presents


class CommunityCaptioner(nn.Module):
    def __init__(self, cfg: CommunityCaptionerConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = ViTEncoder(cfg)
        self.decoder = GPT2CrossDecoder(cfg)

    @torch.no_grad()
    def greedy(self, pixel_values, max_new_tokens: int) -> list[int]:
        """Greedy token ids after the begin token, stopping at the end token (not included)."""
        hidden = self.encoder(pixel_values)
        ids = torch.tensor([[GPT2_END_OF_TEXT_ID]])
        past, out = None, []
        for _ in range(max_new_tokens):
            logits, presents, _ = self.decoder(ids, hidden, past)
            token = int(logits[0, -1].argmax())
            if token == GPT2_END_OF_TEXT_ID:
                break
            out.append(token)
            ids, past = torch.tensor([[token]]), presents
        return out


class DecoderWithoutPast(nn.Module):
    def __init__(self, model: CommunityCaptioner):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, input_ids, encoder_hidden_states):
        logits, presents, cross = self.decoder(input_ids, encoder_hidden_states)
        return (logits, *[t for pair in presents for t in pair], *cross)


class DecoderWithPast(nn.Module):
    def __init__(self, model: CommunityCaptioner):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, input_ids, encoder_hidden_states, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents, cross = self.decoder(input_ids, encoder_hidden_states, past)
        return (logits, *[t for pair in presents for t in pair], *cross)


class Seq2SeqDecoderWithoutPast(nn.Module):
    """The decoder with seq2seq past names: it also returns the cross-attention keys and values."""

    def __init__(self, model: CommunityCaptioner):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, input_ids, encoder_hidden_states):
        logits, presents, cross, cross_presents = self.decoder.forward_with_cross_past(input_ids, encoder_hidden_states)
        per_layer = [(*self_kv, *cross_kv) for self_kv, cross_kv in zip(presents, cross_presents)]
        return (logits, *[t for layer in per_layer for t in layer], *cross)


class Seq2SeqDecoderWithPast(nn.Module):
    """The decoder with seq2seq past names, reading the cached cross-attention keys and values.

    past_flat holds, per layer, the self-attention key and value, then the cross-attention key and
    value; the cross-attention ones come back unchanged as presents.
    """

    def __init__(self, model: CommunityCaptioner):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, input_ids, *past_flat):
        layers = len(past_flat) // 4
        past = [(past_flat[4 * i], past_flat[4 * i + 1]) for i in range(layers)]
        cross_past = [(past_flat[4 * i + 2], past_flat[4 * i + 3]) for i in range(layers)]
        logits, presents, cross, _ = self.decoder.forward_with_cross_past(input_ids, None, past, cross_past)
        per_layer = [(*self_kv, *cross_kv) for self_kv, cross_kv in zip(presents, cross_past)]
        return (logits, *[t for layer in per_layer for t in layer], *cross)


def tiny_community_captioner(seed: int = 0) -> CommunityCaptioner:
    torch.manual_seed(seed)
    model = CommunityCaptioner(CommunityCaptionerConfig()).eval()
    # Round to the stored precision (wte as int8 rows, large tensors as fp16) so PyTorch and the
    # compressed ONNX files compute with identical weights.
    round_for_storage(model, int8_rows=(model.decoder.transformer.wte.weight,))
    return model
