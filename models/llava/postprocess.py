"""Turn LLaVA-1.5 generation outputs into edgecap.attention/v1 documents.

Pure functions over numpy arrays: they need neither transformers nor a GPU, so the tests run
them on synthetic tensors. The caption tool keeps only the last query position of every
generation step before calling them, which gives this layout:

    step_attentions[step][layer]: (batch_rows, heads, keys)

batch_rows is num_return_sequences for greedy or sampled decoding and num_beams for beam search
(one image per call). keys grows by one per step: prompt_length + step.

The schema itself is described in docs/attention-schema.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

SCHEMA_VERSION = "edgecap.attention/v1"
MODEL_FAMILY = "llava"

# CLIP ViT-L/14 at 336 px: 336 / 14 = 24 patches per side. LLaVA-1.5 drops the CLS feature
# (vision_feature_select_strategy "default"), so the prompt contains exactly 24 * 24 = 576 image tokens.
LLAVA15_GRID = (24, 24)

# The BOS token at position 0 collects a large share of every attention row in Llama models
# (the "attention sink") whatever the content, so it is dropped before the image share is taken.
SINK_POSITION = 0

# Writers round to at most 6 significant digits (docs/attention-schema.md).
SIGNIFICANT_DIGITS = 6

# A written map sums to 1 up to the rounding above; readers get a looser bound.
ATTENTION_SUM_TOLERANCE = 1e-3


class ImageSpan(NamedTuple):
    """Half-open range [start, stop) of the image tokens in the expanded prompt."""

    start: int
    stop: int


def locate_image_span(input_ids: Sequence[int], image_token_id: int, grid: tuple[int, int]) -> ImageSpan:
    """Find the contiguous run of image tokens in the processor's expanded input ids.

    Raises ValueError when the image token is missing, when its count differs from the number
    of patches in `grid`, or when the run is split by other tokens.
    """
    ids = np.asarray(input_ids).reshape(-1)
    positions = np.flatnonzero(ids == image_token_id)
    expected = grid[0] * grid[1]

    if positions.size == 0:
        raise ValueError(
            f"image token id {image_token_id} not found in the {ids.size} input ids; "
            "check that the prompt contains '<image>' and that the processor matches the model"
        )

    if positions.size != expected:
        raise ValueError(
            f"found {positions.size} image tokens (id {image_token_id}) but the {grid[0]} x {grid[1]} grid "
            f"needs {expected}; a count of 1 means the processor did not expand '<image>' "
            "(set processor.patch_size and processor.vision_feature_select_strategy, or upgrade transformers)"
        )

    start = int(positions[0])
    stop = int(positions[-1]) + 1
    if stop - start != expected:
        raise ValueError(
            f"the {expected} image tokens are not contiguous: they span positions {start}..{stop - 1}"
        )

    return ImageSpan(start, stop)


def remove_attention_sink(attention: np.ndarray, sink_position: int = SINK_POSITION) -> np.ndarray:
    """Return a copy of `attention` with the sink key position set to zero on the last axis.

    Zeroing is linear, so it gives the same result before or after averaging heads and layers.
    The renormalisation happens in image_attention_grid, which divides by what is left of the row.
    """
    without_sink = np.array(attention, dtype=np.float64, copy=True)
    without_sink[..., sink_position] = 0.0
    return without_sink


def average_heads_and_layers(layer_rows: np.ndarray, layers: Sequence[int] | None = None) -> np.ndarray:
    """Average one token's attention rows (layers, heads, keys) over heads and the chosen layers.

    `layers` lists decoder layer indices (0-based); None selects every layer. Returns (keys,).
    """
    rows = np.asarray(layer_rows, dtype=np.float64)
    if rows.ndim != 3:
        raise ValueError(f"expected attention rows shaped (layers, heads, keys), got shape {rows.shape}")

    if layers is not None:
        selected = list(layers)
        if not selected:
            raise ValueError("the layer selection is empty; pass at least one layer index or None for all")
        invalid = [index for index in selected if not 0 <= index < rows.shape[0]]
        if invalid:
            raise ValueError(f"layer indices {invalid} are out of range for a model with {rows.shape[0]} layers")
        rows = rows[selected]

    return rows.mean(axis=(0, 1))


def image_attention_grid(row: np.ndarray, span: ImageSpan, grid: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Cut the image span out of one attention row and reshape it to the patch grid.

    Returns (attention, image_mass). attention has shape `grid`, row-major from the top-left
    patch, and sums to 1 (all zeros when the image got no attention). image_mass is the image
    span's share of the row's total. Pass a row with the sink removed, so that the total
    excludes the sink.
    """
    values = np.asarray(row, dtype=np.float64).reshape(-1)
    rows, cols = grid
    if span.stop - span.start != rows * cols:
        raise ValueError(f"image span {span} contains {span.stop - span.start} positions but the grid needs {rows * cols}")
    if span.stop > values.size:
        raise ValueError(f"image span {span} runs past the attention row of {values.size} keys")

    image_values = values[span.start : span.stop]
    image_sum = float(image_values.sum())
    row_sum = float(values.sum())

    if image_sum <= 0.0 or row_sum <= 0.0:
        return np.zeros(grid), 0.0

    # The processor lays patches out row by row from the top-left, as CLIP flattens its
    # (rows, cols) feature map, so a C-order reshape puts patch (r, c) at grid[r][c].
    attention = (image_values / image_sum).reshape(rows, cols)
    return attention, image_sum / row_sum


def follow_beam_path(beam_indices: Sequence[int], length: int, batch_rows: int) -> list[int]:
    """Return the attention row of each of the first `length` steps of one returned hypothesis.

    `beam_indices` is that hypothesis's row of transformers' `beam_indices` output. At step t it
    contains the flat beam row (batch_index * num_beams + beam) whose scores produced token t, padded
    with -1 after the hypothesis ended. That same row of step t's attention is the one that saw
    the hypothesis's own prefix, so following it never mixes rows of different beams.
    """
    indices = [int(index) for index in beam_indices]
    if length > len(indices):
        raise ValueError(f"beam_indices covers {len(indices)} steps but the hypothesis has {length} tokens")

    path = indices[:length]
    invalid = [(step, row) for step, row in enumerate(path) if not 0 <= row < batch_rows]
    if invalid:
        raise ValueError(
            f"beam_indices has rows outside 0..{batch_rows - 1} inside the hypothesis (step, row): {invalid[:5]}"
        )
    return path


def trim_at_end_token(token_ids: Sequence[int], end_token_ids: Sequence[int]) -> list[int]:
    """Return the generated ids before the first end token (the end token is not listed)."""
    ends = set(int(token) for token in end_token_ids)
    trimmed: list[int] = []
    for token in token_ids:
        if int(token) in ends:
            break
        trimmed.append(int(token))
    return trimmed


def _common_prefix_length(first: str, second: str) -> int:
    length = 0
    for a, b in zip(first, second):
        if a != b:
            break
        length += 1
    return length


def token_display_texts(token_ids: Sequence[int], decode: Callable[[list[int]], str]) -> list[str]:
    """Return each token's display text, computed as the growth of the decoded prefix.

    Tokens that only together form a character (byte-fallback pieces of one UTF-8 sequence) make
    the decoder emit U+FFFD until the sequence is complete. The whole character then goes on the
    first token of the group and the rest get "". A group still open at the end keeps the
    decoder's U+FFFD on its first token.
    """
    texts: list[str] = []
    emitted = ""
    group_start: int | None = None

    for index in range(len(token_ids)):
        decoded = decode(list(token_ids[: index + 1]))
        texts.append("")

        if group_start is None:
            group_start = index
        if decoded.endswith("\ufffd") and index + 1 < len(token_ids):
            continue

        shared = _common_prefix_length(emitted, decoded)
        texts[group_start] = decoded[shared:]
        emitted = decoded
        group_start = None

    return texts


def round_significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """Round to `digits` significant digits; raises ValueError on NaN or infinity."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"attention values must be finite, got {number}")
    if number == 0.0:
        return 0.0
    return float(f"{number:.{digits}g}")


def token_attention_maps(
    step_attentions: Sequence[Sequence[np.ndarray]],
    path: Sequence[int],
    span: ImageSpan,
    grid: tuple[int, int],
    layers: Sequence[int] | None = None,
    remove_sink: bool = True,
) -> list[tuple[np.ndarray, float]]:
    """Compute (attention grid, image_mass) for every token of one hypothesis.

    `path[t]` is the row of step t's attention that produced token t (follow_beam_path for beam
    search, the sequence's own row otherwise). Heads and `layers` are averaged first, then the
    sink is dropped, then the image span is cut out and normalised.
    """
    if len(path) > len(step_attentions):
        raise ValueError(f"the hypothesis has {len(path)} tokens but only {len(step_attentions)} steps have attention")

    maps: list[tuple[np.ndarray, float]] = []
    for step, row in enumerate(path):
        layer_rows = np.stack([np.asarray(layer)[row] for layer in step_attentions[step]])  # (layers, heads, keys)
        averaged = average_heads_and_layers(layer_rows, layers)  # (keys,)
        if remove_sink:
            if span.start <= SINK_POSITION < span.stop:
                raise ValueError(f"the image span {span} covers the sink position {SINK_POSITION}")
            averaged = remove_attention_sink(averaged)
        maps.append(image_attention_grid(averaged, span, grid))
    return maps


def build_hypothesis(
    rank: int,
    caption: str,
    score: float,
    token_ids: Sequence[int],
    texts: Sequence[str],
    maps: Sequence[tuple[np.ndarray, float]],
) -> dict[str, Any]:
    """Assemble one entry of the document's `hypotheses` list, rounding every value."""
    if not len(token_ids) == len(texts) == len(maps):
        raise ValueError(
            f"token ids ({len(token_ids)}), texts ({len(texts)}) and maps ({len(maps)}) must have one entry per token"
        )

    tokens = []
    for index, (token_id, text, (attention, image_mass)) in enumerate(zip(token_ids, texts, maps)):
        tokens.append(
            {
                "index": index,
                "id": int(token_id),
                "text": text,
                "image_mass": round_significant(image_mass),
                "attention": [round_significant(value) for value in np.asarray(attention).reshape(-1)],
            }
        )

    return {"rank": rank, "caption": caption, "score": round_significant(score), "tokens": tokens}


def center_crop_region(
    width: int, height: int, shortest_edge: int, crop_height: int, crop_width: int
) -> dict[str, int]:
    """Return the region of the original image that a resize-then-center-crop keeps, in original pixels.

    Mirrors CLIPImageProcessor as LLaVA-1.5 configures it: the shorter side is resized to
    `shortest_edge`, the longer side to int(shortest_edge * long / short), then the centre
    crop_height x crop_width is cut with the offset rounded down. Coordinates are rounded to
    whole pixels, so the region can be off by one pixel.
    """
    if min(width, height, shortest_edge, crop_height, crop_width) <= 0:
        raise ValueError(
            f"sizes must be positive, got image {width}x{height}, resize {shortest_edge}, "
            f"crop {crop_width}x{crop_height}"
        )

    if width <= height:
        resized_width, resized_height = shortest_edge, int(shortest_edge * height / width)
    else:
        resized_width, resized_height = int(shortest_edge * width / height), shortest_edge

    scale_x = width / resized_width
    scale_y = height / resized_height
    crop_left = max((resized_width - crop_width) // 2, 0)
    crop_top = max((resized_height - crop_height) // 2, 0)
    kept_width = min(crop_width, resized_width)
    kept_height = min(crop_height, resized_height)

    left = round(crop_left * scale_x)
    top = round(crop_top * scale_y)
    return {
        "left": left,
        "top": top,
        "width": min(round(kept_width * scale_x), width - left),
        "height": min(round(kept_height * scale_y), height - top),
    }


def build_attention_document(
    model: Mapping[str, Any],
    image: Mapping[str, Any],
    config: Mapping[str, Any],
    grid: tuple[int, int],
    crop: Mapping[str, int],
    layers: Sequence[int],
    sink_removed: bool,
    hypotheses: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Assemble and validate one edgecap.attention/v1 document for one image and one config."""
    document = {
        "schema": SCHEMA_VERSION,
        "model": {**model, "family": MODEL_FAMILY},
        "image": dict(image),
        "config": dict(config),
        "grid": {"rows": grid[0], "cols": grid[1]},
        "crop": dict(crop),
        "layers": [int(layer) for layer in layers],
        "sink_removed": bool(sink_removed),
        "hypotheses": [dict(hypothesis) for hypothesis in hypotheses],
    }
    validate_attention_document(document)
    return document


def _require(condition: bool, where: str, problem: str) -> None:
    if not condition:
        raise ValueError(f"attention document invalid at {where}: {problem}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_sha256_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value) is not None)


def _validate_token(token: Any, where: str, index: int, cells: int) -> None:
    _require(isinstance(token, dict), where, "expected an object")
    _require(token.get("index") == index, f"{where}.index", f"expected {index}, got {token.get('index')!r}")
    _require(_is_int(token.get("id")), f"{where}.id", "expected an integer token id")
    _require(isinstance(token.get("text"), str), f"{where}.text", "expected a string")

    mass = token.get("image_mass")
    mass_valid = _is_number(mass) and 0.0 <= mass <= 1.0 + ATTENTION_SUM_TOLERANCE
    _require(mass_valid, f"{where}.image_mass", f"expected a number in [0, 1], got {mass!r}")

    attention = token.get("attention")
    _require(isinstance(attention, list), f"{where}.attention", "expected a list")
    _require(len(attention) == cells, f"{where}.attention", f"expected {cells} values, got {len(attention)}")
    values_valid = all(_is_number(value) and value >= 0.0 for value in attention)
    _require(values_valid, f"{where}.attention", "values must be finite and non-negative")

    total = float(sum(attention))
    if mass == 0.0:
        _require(total == 0.0, f"{where}.attention", f"image_mass is 0 but the values sum to {total}")
    else:
        _require(abs(total - 1.0) <= ATTENTION_SUM_TOLERANCE, f"{where}.attention", f"values sum to {total}, expected 1")


def validate_attention_document(document: Any) -> None:
    """Raise ValueError naming the first field that breaks edgecap.attention/v1."""
    _require(isinstance(document, dict), "$", "expected a JSON object")
    _require(document.get("schema") == SCHEMA_VERSION, "schema", f"expected {SCHEMA_VERSION!r}, got {document.get('schema')!r}")

    model = document.get("model")
    _require(isinstance(model, dict), "model", "expected an object")
    _require(isinstance(model.get("id"), str) and model["id"] != "", "model.id", "expected a non-empty string")
    family = model.get("family")
    _require(family in ("prefix-gpt2", "llava"), "model.family", f"expected 'prefix-gpt2' or 'llava', got {family!r}")
    _require(_is_sha256_or_null(model.get("sha256")), "model.sha256", "expected 64 hex digits or null")

    image = document.get("image")
    _require(isinstance(image, dict), "image", "expected an object")
    _require(isinstance(image.get("id"), str) and image["id"] != "", "image.id", "expected a non-empty string")
    for field in ("width", "height"):
        _require(_is_int(image.get(field)) and image[field] > 0, f"image.{field}", "expected a positive integer")
    _require(_is_sha256_or_null(image.get("sha256")), "image.sha256", "expected 64 hex digits or null")

    _require(isinstance(document.get("config"), dict), "config", "expected an object")

    grid = document.get("grid")
    _require(isinstance(grid, dict), "grid", "expected an object")
    for field in ("rows", "cols"):
        _require(_is_int(grid.get(field)) and grid[field] > 0, f"grid.{field}", "expected a positive integer")
    cells = grid["rows"] * grid["cols"]

    crop = document.get("crop")
    _require(isinstance(crop, dict), "crop", "expected an object")
    for field in ("left", "top", "width", "height"):
        _require(_is_number(crop.get(field)), f"crop.{field}", "expected a number")

    layers = document.get("layers")
    _require(isinstance(layers, list) and len(layers) > 0, "layers", "expected a non-empty list")
    _require(all(_is_int(layer) and layer >= 0 for layer in layers), "layers", "expected non-negative integers")
    _require(isinstance(document.get("sink_removed"), bool), "sink_removed", "expected a boolean")

    hypotheses = document.get("hypotheses")
    _require(isinstance(hypotheses, list) and len(hypotheses) > 0, "hypotheses", "expected a non-empty list")
    for rank, hypothesis in enumerate(hypotheses):
        where = f"hypotheses[{rank}]"
        _require(isinstance(hypothesis, dict), where, "expected an object")
        _require(hypothesis.get("rank") == rank, f"{where}.rank", f"expected {rank}, got {hypothesis.get('rank')!r}")
        _require(isinstance(hypothesis.get("caption"), str), f"{where}.caption", "expected a string")
        _require(_is_number(hypothesis.get("score")), f"{where}.score", "expected a finite number")
        tokens = hypothesis.get("tokens")
        _require(isinstance(tokens, list), f"{where}.tokens", "expected a list")
        for index, token in enumerate(tokens):
            _validate_token(token, f"{where}.tokens[{index}]", index, cells)
