"""Attribute and patch labels of demo scenes, and grounding of caption words to objects.

These feed the ViT pretraining objectives (scene-level multi-hot targets and per-patch
targets) and the attention-grounding evaluation (does the attention peak of a kind word lie
inside the box of the object it names).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .vocabulary import COLOR_NAMES, KIND_WORDS, KINDS, SIZE_BY_WORD, SIZES

if TYPE_CHECKING:
    from .scene import ObjectSpec, Scene

# Index 0 of every patch class map is the background.
BACKGROUND_CLASS = 0

# Patch kind class of a COCO cut-out, after the background and the shape kinds.
CUTOUT_KIND_CLASS = len(KINDS) + 1


def scene_labels(scene: "Scene") -> dict[str, np.ndarray]:
    """Return multi-hot float32 targets for one scene.

    Keys and shapes, with K kinds, C colours and S sizes in vocabulary order:
    - "kind": (K,) 1 where at least one object of that kind is present.
    - "color": (C,) 1 where at least one object has that colour.
    - "kind_color": (K * C,) 1 at kind_index * C + color_index for each present pair.
    - "kind_size": (K * S,) 1 at kind_index * S + size_index for each present pair.
    - "kind_count": (K,) the number of objects of each kind (0 to 3), not a multi-hot.
    COCO cut-outs are not shape kinds and have no colour, so they appear in none of these.
    """
    kind_count = len(KINDS)
    color_count = len(COLOR_NAMES)
    size_count = len(SIZES)
    labels = {
        "kind": np.zeros(kind_count, dtype=np.float32),
        "color": np.zeros(color_count, dtype=np.float32),
        "kind_color": np.zeros(kind_count * color_count, dtype=np.float32),
        "kind_size": np.zeros(kind_count * size_count, dtype=np.float32),
        "kind_count": np.zeros(kind_count, dtype=np.float32),
    }
    for spec in scene.objects:
        if spec.kind not in KINDS:
            continue
        kind = KINDS.index(spec.kind)
        color = COLOR_NAMES.index(spec.color)
        size = SIZES.index(spec.size)
        labels["kind"][kind] = 1.0
        labels["color"][color] = 1.0
        labels["kind_color"][kind * color_count + color] = 1.0
        labels["kind_size"][kind * size_count + size] = 1.0
        labels["kind_count"][kind] += 1.0
    return labels


def patch_object_map(scene: "Scene", grid: int, min_coverage: float = 0.25) -> np.ndarray:
    """Return a (grid, grid) int64 map of the object index covering each patch, or -1.

    The image is cut into grid x grid equal cells (rows from the top). A cell belongs to the
    object with the most pixels in it when that object covers at least `min_coverage` of the
    cell. The image side must be a multiple of `grid` (128 px allows 1, 2, 4, ..., 128).
    """
    height, width = scene.object_map.shape
    if grid <= 0 or height % grid or width % grid:
        raise ValueError(f"grid {grid} does not divide the {width}x{height} image; use a divisor such as 8 or 16")

    cell_h = height // grid
    cell_w = width // grid
    cells = scene.object_map.reshape(grid, cell_h, grid, cell_w).transpose(0, 2, 1, 3).reshape(grid, grid, -1)

    result = np.full((grid, grid), -1, dtype=np.int64)
    best_share = np.zeros((grid, grid), dtype=np.float64)
    for index in range(len(scene.objects)):
        share = (cells == index).mean(axis=-1)
        better = (share >= min_coverage) & (share > best_share)
        result[better] = index
        best_share[better] = share[better]
    return result


def patch_labels(scene: "Scene", grid: int, min_coverage: float = 0.25) -> dict[str, np.ndarray]:
    """Return per-patch class maps, each (grid, grid) int64, for a patch-level objective.

    - "kind": 0 for background, 1 + kind index for shapes, CUTOUT_KIND_CLASS (len(KINDS) + 1)
      for a COCO cut-out, which only occurs when cut-outs are enabled.
    - "color": 0 for background and cut-outs, 1 + colour index for shapes (len(COLOR_NAMES) + 1 classes).
    - "object": the object index from patch_object_map, or -1 for background.
    """
    objects = patch_object_map(scene, grid, min_coverage)
    kind_lookup = np.array(
        [BACKGROUND_CLASS] + [1 + KINDS.index(o.kind) if o.kind in KINDS else CUTOUT_KIND_CLASS for o in scene.objects],
        dtype=np.int64,
    )
    color_lookup = np.array(
        [BACKGROUND_CLASS] + [1 + COLOR_NAMES.index(o.color) if o.color else BACKGROUND_CLASS for o in scene.objects],
        dtype=np.int64,
    )
    # Shift by one so background (-1) reads entry 0 of each lookup table.
    return {"kind": kind_lookup[objects + 1], "color": color_lookup[objects + 1], "object": objects}


@dataclass(frozen=True)
class WordGrounding:
    """A kind word of a caption and the objects it names.

    `objects` is empty when the scene contains no object of that kind (a hallucinated object).
    `exact` is False when the colour or size words before the kind matched no object, so
    `objects` fell back to every object of the kind.
    """

    token_index: int
    word: str
    objects: "list[ObjectSpec]"
    exact: bool

    @property
    def boxes(self) -> list[tuple[int, int, int, int]]:
        return [spec.box for spec in self.objects]


def word_to_object(caption_tokens: list[str], objects: "list[ObjectSpec]") -> list[WordGrounding]:
    """Ground each kind word of a caption ("circle", "stars") to the objects it names.

    `caption_tokens` are whole lower-case words, as in `caption.split()`. The category name of
    a COCO cut-out in `objects` ("dog") counts as a kind word too. The colour and size
    words directly before a kind word narrow the match ("the small red circle" picks the
    small red one). A singular kind word names one object: when several still match, the
    grounding lists all of them, and the evaluator may accept a peak inside any of their boxes.
    """
    cutout_names = {spec.kind for spec in objects if spec.kind not in KINDS}
    groundings: list[WordGrounding] = []
    for index, raw_word in enumerate(caption_tokens):
        word = raw_word.lower()
        if word in KIND_WORDS:
            kind = KIND_WORDS[word][0]
        elif word in cutout_names:
            kind = word
        else:
            continue

        color, size = _modifiers_before(caption_tokens, index)
        same_kind = [spec for spec in objects if spec.kind == kind]
        matching = [
            spec
            for spec in same_kind
            if (color is None or spec.color == color) and (size is None or spec.size == size)
        ]
        if matching:
            groundings.append(WordGrounding(index, word, matching, exact=True))
        else:
            groundings.append(WordGrounding(index, word, same_kind, exact=False))
    return groundings


def _modifiers_before(tokens: list[str], index: int) -> tuple[str | None, str | None]:
    """Read the colour and size adjectives that directly precede the word at `index`."""
    color = None
    size = None
    position = index - 1
    while position >= 0:
        word = tokens[position].lower()
        if color is None and word in COLOR_NAMES:
            color = word
        elif size is None and word in SIZE_BY_WORD:
            size = SIZE_BY_WORD[word]
        else:
            break
        position -= 1
    return color, size
