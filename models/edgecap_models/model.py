"""The edgecap captioner: a ViT image encoder whose tokens, projected, prefix a GPT-2 decoder.

Parameter names follow the checkpoints a user would load: the ViT uses timm's `vit_*` names
(patch_embed.proj, cls_token, pos_embed, blocks.N.*, norm) and the decoder uses Hugging Face GPT-2
names (transformer.wte, transformer.h.N.*, lm_head tied to wte). The same classes build the demo
geometry (112 px, patch 8, 197 prefix tokens) and the full-size one (ViT-B/16 at 224 px, GPT-2 small).
The demo ViT is a hybrid: a small conv stem (patch_embed.backbone.*) runs before patch_embed.proj,
the way timm's vit_*_r50_* hybrids put a ResNet there; the full-size ViT has no stem.

Sequence layout seen by the decoder, positions counted by wpe from 0:
    [visual prefix: CLS + patches] [<|endoftext|> as begin] [caption tokens] [<|endoftext|> as end]
Attention is causal over the whole sequence, prefix included, as in Hugging Face GPT-2 fed with
inputs_embeds. The loss covers the caption tokens and the end token only.
"""

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

GPT2_END_OF_TEXT_ID = 50256  # <|endoftext|>: begin, end and padding token of the captioner
IGNORE_INDEX = -100


@dataclass
class ViTConfig:
    image_size: int = 112
    patch_size: int = 8
    in_chans: int = 3
    embed_dim: int = 192
    depth: int = 4
    num_heads: int = 3
    mlp_ratio: float = 4.0
    layer_norm_eps: float = 1e-6  # timm's ViT LayerNorm epsilon
    # Widths of a convolutional stem before the patch projection (a hybrid ViT, as timm's
    # vit_*_r50_* models put a ResNet there). Empty: the plain linear patch embedding of
    # vit_base_patch16_224. The first log2(patch_size) convolutions have stride 2, the rest stride 1.
    stem_channels: tuple[int, ...] = ()

    @property
    def grid_size(self) -> int:
        return self.image_size // self.patch_size

    @property
    def num_tokens(self) -> int:
        return self.grid_size * self.grid_size + 1  # patches + CLS


@dataclass
class GPT2Config:
    vocab_size: int = 50257  # the GPT-2 vocabulary: token ids equal GPT-2's
    n_positions: int = 256
    n_embd: int = 128
    n_layer: int = 4
    n_head: int = 4
    layer_norm_epsilon: float = 1e-5
    dropout: float = 0.0


@dataclass
class CaptionerConfig:
    vit: ViTConfig = field(default_factory=ViTConfig)
    gpt2: GPT2Config = field(default_factory=GPT2Config)
    projection: str = "mlp"  # "linear" or "mlp" (Linear, GELU, Linear)
    max_caption_tokens: int = 40  # caption tokens after the begin token, end token included

    def __post_init__(self):
        if self.projection not in ("linear", "mlp"):
            raise ValueError(f"projection must be 'linear' or 'mlp', got {self.projection!r}")
        needed = self.vit.num_tokens + 1 + self.max_caption_tokens
        if needed > self.gpt2.n_positions:
            raise ValueError(
                f"prefix {self.vit.num_tokens} + begin token + {self.max_caption_tokens} caption tokens "
                f"= {needed} positions exceed gpt2.n_positions={self.gpt2.n_positions}; "
                "raise n_positions or lower max_caption_tokens"
            )


# Conv stem of the demo ViT: three stride-2 convolutions (patch 8) and one at stride 1.
DEMO_STEM_CHANNELS = (32, 64, 128, 128)


def demo_config(**overrides) -> CaptionerConfig:
    """Return the demo geometry: 112 px, patch 8 (14 x 14 + CLS), hybrid ViT 192x4, GPT-2 shaped 128x4."""
    overrides.setdefault("vit", ViTConfig(stem_channels=DEMO_STEM_CHANNELS))
    return CaptionerConfig(**overrides)


def full_size_config() -> CaptionerConfig:
    """Return ViT-B/16 at 224 px (timm vit_base_patch16_224) with GPT-2 small (Hugging Face gpt2)."""
    return CaptionerConfig(
        vit=ViTConfig(image_size=224, patch_size=16, embed_dim=768, depth=12, num_heads=12),
        gpt2=GPT2Config(n_positions=1024, n_embd=768, n_layer=12, n_head=12),
    )


# ----------------------------------------------------------------------------------------------
# ViT (timm names)


class ViTAttention(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        assert cfg.embed_dim % cfg.num_heads == 0
        self.num_heads = cfg.num_heads
        self.head_dim = cfg.embed_dim // cfg.num_heads
        self.qkv = nn.Linear(cfg.embed_dim, 3 * cfg.embed_dim)
        self.proj = nn.Linear(cfg.embed_dim, cfg.embed_dim)

    def forward(self, x):
        B, N, C = x.shape
        hs = self.head_dim
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, hs).permute(2, 0, 3, 1, 4)  # (3, B, nh, N, hs)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, nh, N, N)
        att = att.softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, N, C)  # (B, N, C)
        return self.proj(y)


class ViTMlp(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        hidden = int(cfg.embed_dim * cfg.mlp_ratio)
        self.fc1 = nn.Linear(cfg.embed_dim, hidden)
        self.act = nn.GELU()  # exact (erf) GELU, as timm's ViT
        self.fc2 = nn.Linear(hidden, cfg.embed_dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class ViTBlock(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.embed_dim, eps=cfg.layer_norm_eps)
        self.attn = ViTAttention(cfg)
        self.norm2 = nn.LayerNorm(cfg.embed_dim, eps=cfg.layer_norm_eps)
        self.mlp = ViTMlp(cfg)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class PatchEmbed(nn.Module):
    """Pixels to patch tokens: one strided convolution, or a conv stem then a 1 x 1 projection.

    A stem gives each patch token the edges and corners around it: three stride-2 3 x 3
    convolutions cover 15 px, and a fourth at stride 1 widens that to 31 px. A ViT trained from
    scratch on a few thousand images does not learn this within a CPU budget. Trained the same
    way for 300 steps, the demo ViT with the plain embedding named the kind of 24 % of validation
    object patches (chance is 17 %), and with the stem 98 %.
    """

    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.backbone = None
        if not cfg.stem_channels:
            self.proj = nn.Conv2d(cfg.in_chans, cfg.embed_dim, kernel_size=cfg.patch_size, stride=cfg.patch_size)
            return
        downsamples = cfg.patch_size.bit_length() - 1
        if 2**downsamples != cfg.patch_size or len(cfg.stem_channels) < downsamples:
            raise ValueError(
                f"a conv stem needs a power-of-two patch_size and at least log2(patch_size) widths; got "
                f"patch_size={cfg.patch_size}, stem_channels={cfg.stem_channels}"
            )
        layers, width = [], cfg.in_chans
        for index, out in enumerate(cfg.stem_channels):
            stride = 2 if index < downsamples else 1
            layers += [nn.Conv2d(width, out, kernel_size=3, stride=stride, padding=1), nn.GELU()]
            width = out
        self.backbone = nn.Sequential(*layers)
        self.proj = nn.Conv2d(width, cfg.embed_dim, kernel_size=1)

    def forward(self, x):
        if self.backbone is not None:
            x = self.backbone(x)  # (B, C_stem, gh, gw)
        x = self.proj(x)  # (B, C, gh, gw)
        return x.flatten(2).transpose(1, 2)  # (B, gh*gw, C), row-major from the top-left patch


class VisionTransformer(nn.Module):
    """Pre-norm ViT returning the normed CLS + patch tokens (timm's forward_features)."""

    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.cfg = cfg
        self.patch_embed = PatchEmbed(cfg)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.embed_dim))
        self.pos_embed = nn.Parameter(torch.randn(1, cfg.num_tokens, cfg.embed_dim) * 0.02)
        self.blocks = nn.ModuleList([ViTBlock(cfg) for _ in range(cfg.depth)])
        self.norm = nn.LayerNorm(cfg.embed_dim, eps=cfg.layer_norm_eps)
        nn.init.normal_(self.cls_token, std=1e-6)
        self.apply(_init_linear)

    def embed(self, pixel_values):
        x = self.patch_embed(pixel_values)  # (B, N, C)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, C)
        return torch.cat([cls, x], dim=1) + self.pos_embed  # (B, 1+N, C)

    def forward(self, pixel_values, first_block: int = 0, tokens=None):
        """Run blocks[first_block:] and the final norm; `tokens` replaces the embedding when resuming."""
        x = self.embed(pixel_values) if tokens is None else tokens
        for block in self.blocks[first_block:]:
            x = block(x)
        return self.norm(x)  # (B, 1+N, C)

    def forward_until(self, pixel_values, last_block: int):
        """Return the tokens entering blocks[last_block], so frozen blocks can be cached."""
        x = self.embed(pixel_values)
        for block in self.blocks[:last_block]:
            x = block(x)
        return x


def sincos_pos_embed(grid: int, dim: int) -> torch.Tensor:
    """Return fixed 2D sine-cosine position embeddings (1 + grid*grid, dim), a zero row for CLS.

    Half of the channels encode the patch row and half the column, each as sines and cosines of
    geometric frequencies (as in MAE, He et al. 2021). Used as the starting value of a ViT trained
    from scratch: neighbouring patches start out with similar codes, so attention can find an
    object's other patches early instead of learning locality from nothing.
    """
    if dim % 4 != 0:
        raise ValueError(f"sin-cos position embeddings need embed_dim divisible by 4, got {dim}")
    quarter = dim // 4
    omega = 1.0 / (10000.0 ** (torch.arange(quarter, dtype=torch.float64) / quarter))  # (dim/4,)
    rows, cols = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64),
                                indexing="ij")  # fmt: skip
    parts = []
    for coordinate in (rows.flatten(), cols.flatten()):
        angles = coordinate[:, None] * omega[None, :]  # (grid*grid, dim/4)
        parts += [angles.sin(), angles.cos()]
    patches = torch.cat(parts, dim=1)  # (grid*grid, dim)
    return torch.cat([torch.zeros(1, dim, dtype=torch.float64), patches]).float()


def _init_linear(module):
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


# ----------------------------------------------------------------------------------------------
# GPT-2 (Hugging Face names; nn.Linear where Hugging Face has Conv1D, see weights.py)


def gelu_new(x):
    """GPT-2's tanh approximation of GELU."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0
        self.n_head = cfg.n_head
        self.head_dim = cfg.n_embd // cfg.n_head
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.attn_dropout = nn.Dropout(cfg.dropout)
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x, mask, past=None):
        """x (B, T, C); mask (T, S+T) True where a query may attend; past (k, v) each (B, nh, S, hs)."""
        B, T, C = x.shape
        hs = self.head_dim
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)  # (B, nh, S+T, hs)
            v = torch.cat([past[1], v], dim=2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, nh, T, S+T)
        att = att.masked_fill(~mask, torch.finfo(att.dtype).min)
        att = att.softmax(dim=-1)
        y = self.attn_dropout(att) @ v  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.c_proj(y)), (k, v), att


class GPT2MLP(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(gelu_new(self.c_fc(x))))


class GPT2Block(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = GPT2Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = GPT2MLP(cfg)

    def forward(self, x, mask, past=None):
        a, present, att = self.attn(self.ln_1(x), mask, past)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, present, att


class GPT2LMHeadModel(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.cfg = cfg
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(cfg.vocab_size, cfg.n_embd),
                wpe=nn.Embedding(cfg.n_positions, cfg.n_embd),
                drop=nn.Dropout(cfg.dropout),
                h=nn.ModuleList([GPT2Block(cfg) for _ in range(cfg.n_layer)]),
                ln_f=nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon),
            )
        )
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied, as GPT-2

        self.apply(_init_linear)
        for module in self.modules():
            if isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=0.02)
        # GPT-2 scales the residual projections by 1/sqrt(2 * n_layer) at initialisation.
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(param, std=0.02 / math.sqrt(2 * cfg.n_layer))

    def forward_embeds(self, inputs_embeds, past_key_values=None, start_position: int = 0):
        """Run the blocks over new embeddings that follow `past_key_values`.

        inputs_embeds (B, T, C) without positions; past_key_values: a list of (k, v), each
        (B, nh, S, hs), or None. `start_position` shifts the wpe rows only (language-model
        pretraining uses it to train the rows that the captioner's prefix pushes captions to).
        Returns hidden (B, T, C) after ln_f, the presents (each (B, nh, S+T, hs)) and every
        layer's attention probabilities (B, nh, T, S+T).
        """
        T = inputs_embeds.shape[1]
        past_length = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        positions = torch.arange(T, device=inputs_embeds.device) + past_length  # (T,)
        key_positions = torch.arange(T + past_length, device=inputs_embeds.device)  # (S+T,)
        mask = key_positions[None, :] <= positions[:, None]  # (T, S+T), causal

        x = self.transformer.drop(inputs_embeds + self.transformer.wpe(positions + start_position))
        presents, attentions = [], []
        for i, block in enumerate(self.transformer.h):
            past = None if past_key_values is None else past_key_values[i]
            x, present, att = block(x, mask, past)
            presents.append(present)
            attentions.append(att)
        return self.transformer.ln_f(x), presents, attentions

    def forward(self, input_ids, labels=None, start_position: int = 0):
        """Language-model pass over token ids (B, T); loss over labels shifted by one."""
        hidden, _, _ = self.forward_embeds(self.transformer.wte(input_ids), start_position=start_position)
        logits = self.lm_head(hidden)  # (B, T, V)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=IGNORE_INDEX
            )
        return logits, loss


# ----------------------------------------------------------------------------------------------
# The captioner


class Projection(nn.Module):
    """Maps ViT tokens (B, N, vit_dim) to decoder embeddings (B, N, n_embd)."""

    def __init__(self, kind: str, vit_dim: int, n_embd: int):
        super().__init__()
        self.kind = kind
        if kind == "linear":
            self.fc1 = nn.Linear(vit_dim, n_embd)
        else:
            self.fc1 = nn.Linear(vit_dim, n_embd * 4)
            self.fc2 = nn.Linear(n_embd * 4, n_embd)
        self.apply(_init_linear)

    def forward(self, x):
        if self.kind == "linear":
            return self.fc1(x)
        return self.fc2(F.gelu(self.fc1(x)))


class Captioner(nn.Module):
    def __init__(self, cfg: CaptionerConfig):
        super().__init__()
        self.cfg = cfg
        self.vit = VisionTransformer(cfg.vit)
        self.projection = Projection(cfg.projection, cfg.vit.embed_dim, cfg.gpt2.n_embd)
        self.gpt2 = GPT2LMHeadModel(cfg.gpt2)

    @property
    def prefix_length(self) -> int:
        return self.cfg.vit.num_tokens

    def encode_image(self, pixel_values=None, vit_tokens=None):
        """Return prefix_embeds (B, 197, n_embd) from pixels or from precomputed ViT tokens."""
        if vit_tokens is None:
            vit_tokens = self.vit(pixel_values)  # (B, 197, vit_dim)
        return self.projection(vit_tokens)

    def forward(self, prefix_embeds, input_ids, labels, return_prefix_attention: bool = False):
        """Teacher-forced loss over K captions per image.

        prefix_embeds (B, P, C); input_ids and labels (B*K, T), the K captions of image b in rows
        b*K .. b*K+K-1. input_ids start with the begin token; labels hold the next token at each
        position and IGNORE_INDEX on padding. Because attention is causal, no prefix position attends
        to the caption, so the prefix is run once per image and its keys and values are shared by
        the image's K captions: the same loss as K full sequences at a fraction of the cost.
        With return_prefix_attention, also returns the caption queries' attention over the prefix,
        averaged over heads and layers, (B*K, T, P), for attention supervision.
        """
        B = prefix_embeds.shape[0]
        K = input_ids.shape[0] // B
        assert input_ids.shape[0] == B * K, f"{input_ids.shape[0]} captions do not split evenly over {B} images"
        _, past, _ = self.gpt2.forward_embeds(prefix_embeds)  # each (B, nh, P, hs)
        past = [(k.repeat_interleave(K, dim=0), v.repeat_interleave(K, dim=0)) for k, v in past]  # (B*K, nh, P, hs)
        tokens = self.gpt2.transformer.wte(input_ids)  # (B*K, T, C)
        hidden, _, attentions = self.gpt2.forward_embeds(tokens, past)  # (B*K, T, C)
        keep = labels != IGNORE_INDEX
        logits = self.gpt2.lm_head(hidden[keep])  # (n_tokens, V): only where a label exists
        loss = F.cross_entropy(logits, labels[keep])
        if not return_prefix_attention:
            return loss
        P = prefix_embeds.shape[1]
        prefix_attention = torch.stack([att[..., :P].mean(dim=1) for att in attentions]).mean(dim=0)  # (B*K, T, P)
        return loss, prefix_attention

    def decode_step(self, prefix_embeds, input_ids, past_key_values=None):
        """Run one step of the exported decoder interface.

        prefix_embeds (B, P, C) with P = 0 after the first step; input_ids (B, T).
        Returns logits of the last position (B, V), presents, and per layer the head-averaged
        attention of the T new token positions over the prefix positions, (L, B, T, prefix_length).
        """
        tokens = self.gpt2.transformer.wte(input_ids)  # (B, T, C)
        x = torch.cat([prefix_embeds, tokens], dim=1)  # (B, P+T, C)
        hidden, presents, attentions = self.gpt2.forward_embeds(x, past_key_values)
        logits = self.gpt2.lm_head(hidden[:, -1])  # (B, V)
        T = input_ids.shape[1]
        prefix_attention = torch.stack(
            [att[:, :, -T:, : self.prefix_length].mean(dim=1) for att in attentions]
        )  # (L, B, T, prefix_length), CLS first
        return logits, presents, prefix_attention

    @torch.no_grad()
    def generate(self, prefix_embeds, max_new_tokens=None, end_id=GPT2_END_OF_TEXT_ID):
        """Greedy decoding for a batch of prefixes.

        Returns the token lists (end token dropped) and, per caption, the prefix attention rows
        (n_tokens, L, prefix_length). A token's row is the one computed in the step whose logits
        chose that token, so it shows where the decoder looked while producing it.
        """
        B = prefix_embeds.shape[0]
        max_new_tokens = max_new_tokens or self.cfg.max_caption_tokens
        input_ids = torch.full((B, 1), end_id, dtype=torch.long, device=prefix_embeds.device)
        logits, past, prefix_att = self.decode_step(prefix_embeds, input_ids)
        empty = prefix_embeds[:, :0]  # (B, 0, C): later steps feed token ids only
        sequences = [[] for _ in range(B)]
        rows = [[] for _ in range(B)]
        done = [False] * B
        for _ in range(max_new_tokens):
            next_ids = logits.argmax(dim=-1)  # (B,)
            for b in range(B):
                if done[b]:
                    continue
                token = int(next_ids[b])
                if token == end_id:
                    done[b] = True
                    continue
                sequences[b].append(token)
                rows[b].append(prefix_att[:, b, -1])  # (L, prefix_length)
            if all(done):
                break
            logits, past, prefix_att = self.decode_step(empty, next_ids[:, None], past)
        return sequences, [torch.stack(r) if r else prefix_embeds.new_zeros(0) for r in rows]
