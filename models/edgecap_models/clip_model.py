"""A small CLIP-style dual encoder: ViT image tower, causal text transformer, contrastive loss.

Names follow OpenAI CLIP where it has them (token_embedding, positional_embedding,
transformer.resblocks.N.*, ln_final, text_projection, logit_scale); the image tower is edgecap's
timm-named VisionTransformer with a `visual_projection` on the normed CLS token. Text ids are CLIP
BPE ids in a context of 77 with <|startoftext|> 49406 first and <|endoftext|> 49407 last; the text
embedding is read at the end token, found as the position of the highest id, as CLIP does.
"""

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import ViTConfig, VisionTransformer, _init_linear

CLIP_START_ID = 49406
CLIP_END_ID = 49407


@dataclass
class CLIPTextConfig:
    vocab_size: int = 49408
    context_length: int = 77
    width: int = 128
    layers: int = 4
    heads: int = 4


@dataclass
class CLIPConfig:
    vision: ViTConfig = field(default_factory=ViTConfig)
    text: CLIPTextConfig = field(default_factory=CLIPTextConfig)
    embed_dim: int = 128


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)  # OpenAI CLIP's GELU approximation


class TextAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.in_proj = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, mask):
        B, T, C = x.shape
        hs = self.head_dim
        q, k, v = self.in_proj(x).split(C, dim=2)
        q = q.view(B, T, self.heads, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.heads, hs).transpose(1, 2)
        v = v.view(B, T, self.heads, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, nh, T, T)
        att = att.masked_fill(~mask, torch.finfo(att.dtype).min).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.out_proj(y)


class TextMlp(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width)
        self.gelu = QuickGELU()
        self.c_proj = nn.Linear(4 * width, width)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = TextAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = TextMlp(width)

    def forward(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class TextTransformer(nn.Module):
    def __init__(self, cfg: CLIPTextConfig):
        super().__init__()
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(cfg.width, cfg.heads) for _ in range(cfg.layers)])

    def forward(self, x, mask):
        for block in self.resblocks:
            x = block(x, mask)
        return x


class CLIPModel(nn.Module):
    def __init__(self, cfg: CLIPConfig):
        super().__init__()
        self.cfg = cfg
        self.visual = VisionTransformer(cfg.vision)
        self.visual_projection = nn.Linear(cfg.vision.embed_dim, cfg.embed_dim, bias=False)
        t = cfg.text
        self.token_embedding = nn.Embedding(t.vocab_size, t.width)
        self.positional_embedding = nn.Parameter(torch.randn(t.context_length, t.width) * 0.01)
        self.transformer = TextTransformer(t)
        self.ln_final = nn.LayerNorm(t.width)
        self.text_projection = nn.Parameter(torch.randn(t.width, cfg.embed_dim) * t.width**-0.5)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.transformer.apply(_init_linear)
        nn.init.normal_(self.token_embedding.weight, std=0.02)

    def encode_image(self, pixel_values=None, tokens=None, first_block: int = 0):
        """Return image embeddings (B, E), not normalised; `tokens` resumes at `first_block`."""
        x = self.visual(pixel_values, first_block=first_block, tokens=tokens)  # (B, 1+N, C)
        return self.visual_projection(x[:, 0])  # CLS token

    def encode_text(self, input_ids):
        """Return text embeddings (B, E), not normalised, read at the end token (highest id)."""
        T = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.positional_embedding[:T]  # (B, T, W)
        positions = torch.arange(T, device=input_ids.device)
        mask = positions[None, :] <= positions[:, None]  # (T, T), causal
        x = self.ln_final(self.transformer(x, mask))
        end = input_ids.argmax(dim=-1)  # (B,)
        x = x[torch.arange(x.shape[0], device=x.device), end]  # (B, W)
        return x @ self.text_projection  # (B, E)

    def contrastive_loss(self, image_embeds, text_embeds):
        """Symmetric cross-entropy over the cosine-similarity matrix scaled by exp(logit_scale)."""
        image_embeds = F.normalize(image_embeds, dim=-1)
        text_embeds = F.normalize(text_embeds, dim=-1)
        scale = self.logit_scale.clamp(max=math.log(100.0)).exp()  # CLIP clamps the scale at 100
        logits = scale * image_embeds @ text_embeds.t()  # (B, B)
        target = torch.arange(logits.shape[0], device=logits.device)
        return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
