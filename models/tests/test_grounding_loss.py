"""Tests of the attention supervision: targets from reference captions, the loss, the model's attention."""

import math

import numpy as np
import torch

from edgecap_models.grounding_loss import (
    GroundingTarget,
    batch_targets,
    caption_targets,
    grounding_loss,
    object_patch_mask,
)
from edgecap_models.text import gpt2_decode, gpt2_encode
from test_model import make_model


def test_patch_mask_centres_in_box():
    # 128 px scene on a 4 x 4 grid: patch centres at 16, 48, 80, 112 px.
    mask = object_patch_mask([(40, 0, 50, 20)], 4).reshape(4, 4)
    assert [list(axis) for axis in mask.nonzero()] == [[0, 0], [1, 2]]
    assert not object_patch_mask([(20, 20, 10, 10)], 4).any()  # between centres


def test_targets_per_kind_word():
    objects = [("circle", "red", "large", (0, 0, 64, 64)), ("square", "blue", "small", (64, 64, 64, 64))]
    ids = gpt2_encode("a red circle and a green square")
    targets = caption_targets(ids, objects, 4)
    words = [gpt2_decode([ids[t.position]]) for t in targets]
    assert words == [" circle", " square"]  # "green square" still names the only square
    assert targets[0].patches.reshape(4, 4)[:2, :2].all()
    assert targets[0].patches.sum() == 4
    assert caption_targets(gpt2_encode("a yellow star"), objects, 4) == []  # no star in the scene


def test_batch_targets_drop_cut_tokens():
    mask = np.ones(16, dtype=bool)
    rows, positions, masks = batch_targets([[GroundingTarget(2, mask)], [], [GroundingTarget(9, mask)]], max_tokens=8)
    assert rows.tolist() == [0]
    assert positions.tolist() == [2]
    assert masks.shape == (1, 16)
    assert batch_targets([[GroundingTarget(9, mask)]], max_tokens=8) is None


def test_loss_minus_log_mass():
    attention = torch.zeros(1, 3, 5)  # CLS + 4 patches
    attention[0, 1] = torch.tensor([0.1, 0.6, 0.1, 0.1, 0.1])
    targets = (torch.tensor([0]), torch.tensor([1]), torch.tensor([[1.0, 1.0, 0.0, 0.0]]))
    assert math.isclose(grounding_loss(attention, targets).item(), -math.log(0.7), rel_tol=1e-6)


def test_forward_attention_matches_decode_step():
    model = make_model()
    prefix = model.encode_image(torch.randn(1, 3, 32, 32))
    input_ids = torch.tensor([[50256 % 300, 5, 7, 9]])
    labels = torch.tensor([[5, 7, 9, -100]])
    _, attention = model(prefix, input_ids, labels, return_prefix_attention=True)
    _, _, rows = model.decode_step(prefix, input_ids)  # (L, B, T, P)
    assert attention.shape == (1, 4, prefix.shape[1])
    assert torch.allclose(attention[0], rows[:, 0].mean(dim=0), atol=1e-6)
