"""Attention supervision for the captioner: kind words should look at the objects they name.

The loss supervises attention as in "Attention Correctness in Neural Image Captioning" (Liu et
al., AAAI 2017). Take each caption token of a word that names objects of the scene ("circle",
"stars"). The decoder's prefix attention at the query that produces that token, averaged over
heads and layers, should put its mass on the patches of those objects, and the loss is
-log(mass on the target patches).

The target patches are those whose centre lies inside a named object's box. The grounding metric
(`evaluate_captioner.grounding`) applies the same test to the attention peak. Training sees the
train split's boxes only, so the metric on the test split stays a held-out check.

The demo domain gives every object's box. COCO's instance annotations have boxes too, so the loss
carries over to photos.
NOTE: train_coco does not read COCO instance boxes yet, so photo runs train without this loss.
"""

from dataclasses import dataclass

import numpy as np
import torch

from .domain import ObjectSpec, word_to_object
from .evaluate_captioner import patch_centre_in_box, words_of_tokens


@dataclass(frozen=True)
class GroundingTarget:
    """One supervised token: its index in the caption's token list and its target patches (grid*grid,)."""

    position: int
    patches: np.ndarray


def object_patch_mask(boxes, grid: int) -> np.ndarray:
    """Return a boolean (grid*grid,) mask of the patches whose centre lies inside any of `boxes` ([x, y, w, h])."""
    mask = np.zeros(grid * grid, dtype=bool)
    for row in range(grid):
        for col in range(grid):
            mask[row * grid + col] = any(patch_centre_in_box(row, col, grid, box) for box in boxes)
    return mask


def caption_targets(token_ids: list[int], objects, grid: int) -> list[GroundingTarget]:
    """Targets for every token of each kind word in a reference caption that names an object.

    `objects` contains (kind, colour, size, box) tuples, as build_split stores them. A kind word
    whose objects cover no patch centre (a small object between centres) gets no target.
    """
    specs = [ObjectSpec(kind, color, size, tuple(box)) for kind, color, size, box in objects]
    words = words_of_tokens(token_ids)
    targets = []
    for item in word_to_object([w for w, _ in words], specs):
        if not item.objects:
            continue
        mask = object_patch_mask(item.boxes, grid)
        if not mask.any():
            continue
        targets += [GroundingTarget(position, mask) for position in words[item.token_index][1]]
    return targets


def batch_targets(per_caption: list[list[GroundingTarget]], max_tokens: int):
    """Stack the targets of a batch's captions into (rows, positions, masks) tensors, or None.

    Row r is the batch's r-th caption; positions past the `max_tokens - 1` kept tokens are dropped,
    as caption_batch cuts those tokens.
    """
    rows, positions, masks = [], [], []
    for row, targets in enumerate(per_caption):
        for target in targets:
            if target.position < max_tokens - 1:
                rows.append(row)
                positions.append(target.position)
                masks.append(target.patches)
    if not rows:
        return None
    return torch.tensor(rows), torch.tensor(positions), torch.from_numpy(np.stack(masks)).float()


def grounding_loss(prefix_attention: torch.Tensor, targets) -> torch.Tensor:
    """Return -log of the attention mass on the target patches, averaged over supervised tokens.

    prefix_attention (N, T, P): head- and layer-averaged attention of each caption query over the
    prefix, CLS first. targets: (rows, positions, masks (n, P - 1)) from batch_targets.
    """
    rows, positions, masks = targets
    patches = prefix_attention[rows, positions, 1:]  # (n, grid*grid), CLS dropped
    mass = (patches * masks).sum(dim=-1)
    return -mass.clamp_min(1e-6).log().mean()
