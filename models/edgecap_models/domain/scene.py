"""Scene sampling: which objects a demo image contains, where they sit, and how it looks.

Image `index` of split `split` is drawn from numpy's Generator(PCG64) seeded with
`[SPLITS[split].seed, index]`, so it depends only on that pair and never on which other
images or splits were generated before it. COCO cut-outs, when enabled, draw from a second
generator seeded with `[seed, index, 1]`.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .captions import write_captions
from .coco_cutouts import DEFAULT_COCO_DIR, cutout_source, load_cutouts, render_cutout
from .render import composite, render_background, shape_mask
from .vocabulary import BACKGROUNDS, COLOR_NAMES, COLORS, KINDS, SIZE_RANGES_PX

IMAGE_SIZE = 128

# At most this share of the smaller of two boxes may lie under the other box.
MAX_BOX_OVERLAP = 0.08

# Placement attempts per object before it is shrunk to "small", then dropped.
_PLACEMENT_TRIES = 60

# Share of scenes that get one COCO cut-out when cut-outs are enabled.
COCO_CUTOUT_RATE = 0.5

# Maximum rotation in radians of shapes whose upright pose matters for their name
# (a square turned by 45 degrees reads as a diamond).
_MAX_TILT = math.radians(15.0)


@dataclass(frozen=True)
class SplitSpec:
    """Seed, default image count and image-id offset of one split."""

    name: str
    seed: int
    size: int
    id_offset: int


SPLITS: dict[str, SplitSpec] = {
    "train": SplitSpec("train", seed=20_261_001, size=6000, id_offset=1_000_000),
    "val": SplitSpec("val", seed=20_261_002, size=300, id_offset=2_000_000),
    "test": SplitSpec("test", seed=20_261_003, size=300, id_offset=3_000_000),
}


@dataclass(frozen=True)
class ObjectSpec:
    """One drawn object. `box` is the tight [x, y, w, h] pixel box of its mask (coverage >= 0.5).

    For a COCO cut-out, `kind` is the COCO category name ("dog"), `color` is None and
    `coco_category_id` is the COCO category id; shapes leave it None.
    """

    kind: str
    color: str | None
    size: str
    box: tuple[int, int, int, int]
    coco_category_id: int | None = None


@dataclass
class Scene:
    """One generated image with its ground truth.

    `object_map` is an int8 HxW array holding, per pixel, the index into `objects` of the
    object drawn on top there (coverage >= 0.5), or -1 for background.
    """

    split: str
    index: int
    image_id: int
    file_name: str
    image: np.ndarray
    captions: list[str]
    objects: list[ObjectSpec]
    background: str
    object_map: np.ndarray = field(repr=False)


def scene_rng(split: str, index: int) -> np.random.Generator:
    """Return the generator for image `index` of `split`."""
    spec = _split_spec(split)
    if index < 0:
        raise ValueError(f"image index must be >= 0, got {index}")
    return np.random.Generator(np.random.PCG64([spec.seed, index]))


def generate_scene(split: str, index: int, coco_cutouts: bool = False, coco_dir: Path | None = None) -> Scene:
    """Generate image `index` of `split` with its five reference captions and object list.

    With `coco_cutouts`, half of the scenes with fewer than 3 shapes also get one object cut
    out of a real COCO photo from `coco_dir` (default: the coco-mini sample beside the
    repository), placed where it fits after the shapes.
    """
    spec = _split_spec(split)
    rng = scene_rng(split, index)

    background = str(rng.choice(list(BACKGROUNDS)))
    image = render_background(background, IMAGE_SIZE, IMAGE_SIZE, rng)
    object_map = np.full((IMAGE_SIZE, IMAGE_SIZE), -1, dtype=np.int8)

    objects: list[ObjectSpec] = []
    placed_boxes: list[tuple[int, int, int, int]] = []
    for kind, color, size in _sample_layout(rng):
        placed = _place_object(kind, color, size, placed_boxes, rng)
        if placed is None:
            continue
        mask, top, left, box, actual_size = placed
        rgb = np.asarray(COLORS[color], dtype=np.float32) + rng.uniform(-12.0, 12.0, size=3)
        composite(image, mask, top, left, np.clip(rgb, 0.0, 255.0))
        _mark_object(object_map, mask, top, left, len(objects))
        objects.append(ObjectSpec(kind, color, actual_size, box))
        placed_boxes.append(box)

    # A cut-out joins only scenes with room for it, so a scene never exceeds 3 objects.
    if coco_cutouts and len(objects) < 3:
        cutout_rng = np.random.Generator(np.random.PCG64([spec.seed, index, 1]))
        if cutout_rng.random() < COCO_CUTOUT_RATE:
            cutouts = load_cutouts(coco_dir or DEFAULT_COCO_DIR, cutout_source(split))
            cutout = cutouts[int(cutout_rng.integers(0, len(cutouts)))]
            size = str(cutout_rng.choice(["small", "large"]))
            low, high = SIZE_RANGES_PX[size]
            rgb, alpha = render_cutout(cutout, cutout_rng.uniform(low, high))
            spot = _find_spot(alpha, placed_boxes, cutout_rng)
            if spot is not None:
                top, left, box = spot
                composite(image, alpha, top, left, rgb)
                _mark_object(object_map, alpha, top, left, len(objects))
                objects.append(ObjectSpec(cutout.name, None, size, box, cutout.category_id))
                placed_boxes.append(box)

    captions = write_captions(objects, background, rng)
    return Scene(
        split=split,
        index=index,
        image_id=spec.id_offset + index,
        file_name=f"demo_{split}_{index:06d}.png",
        image=image,
        captions=captions,
        objects=objects,
        background=background,
        object_map=object_map,
    )


def _split_spec(split: str) -> SplitSpec:
    spec = SPLITS.get(split)
    if spec is None:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    return spec


def _sample_layout(rng: np.random.Generator) -> list[tuple[str, str, str]]:
    """Draw 1 to 3 objects as (kind, colour, size).

    Objects either form a group that shares kind, colour and size (captioned as "two red
    circles") or differ in kind or colour, so every caption phrase names a distinct set.
    """
    count = int(rng.choice([1, 2, 3], p=[0.3, 0.4, 0.3]))
    if count >= 2 and rng.random() < 0.35:
        group_sizes = [count] if count == 2 or rng.random() < 0.5 else [2, 1]
    else:
        group_sizes = [1] * count

    used: set[tuple[str, str]] = set()
    layout: list[tuple[str, str, str]] = []
    for group_size in group_sizes:
        while True:
            kind = str(rng.choice(KINDS))
            color = str(rng.choice(COLOR_NAMES))
            if (kind, color) not in used:
                break
        used.add((kind, color))
        size = str(rng.choice(["small", "large"]))
        layout.extend([(kind, color, size)] * group_size)
    return layout


def _place_object(
    kind: str,
    color: str,
    size: str,
    placed_boxes: list[tuple[int, int, int, int]],
    rng: np.random.Generator,
) -> tuple[np.ndarray, int, int, tuple[int, int, int, int], str] | None:
    """Draw one object and find it a spot. Return (mask, top, left, box, size), or None if it fits nowhere.

    A large object that does not fit is retried as small, so the returned size may differ.
    """
    for attempt_size in (size, "small") if size == "large" else (size,):
        low, high = SIZE_RANGES_PX[attempt_size]
        side = rng.uniform(low, high)
        if kind == "star":
            angle = rng.uniform(-math.pi / 5.0, math.pi / 5.0)
        elif kind in ("circle", "ring"):
            angle = 0.0
        else:
            angle = rng.uniform(-_MAX_TILT, _MAX_TILT)

        # Rotated crosses and squares reach up to about 1.06 x side / 2 from the centre.
        canvas = int(math.ceil(side * 1.15)) + 2
        mask = shape_mask(kind, side, angle, canvas)
        spot = _find_spot(mask, placed_boxes, rng)
        if spot is not None:
            top, left, box = spot
            return mask, top, left, box, attempt_size
    return None


def _find_spot(
    mask: np.ndarray, placed_boxes: list[tuple[int, int, int, int]], rng: np.random.Generator
) -> tuple[int, int, tuple[int, int, int, int]] | None:
    """Return (top, left, box) of the first random position where `mask` barely overlaps, or None."""
    height, width = mask.shape
    rows = np.flatnonzero((mask >= 0.5).any(axis=1))
    cols = np.flatnonzero((mask >= 0.5).any(axis=0))
    if len(rows) == 0:
        return None

    for _ in range(_PLACEMENT_TRIES):
        top = int(rng.integers(0, IMAGE_SIZE - height + 1))
        left = int(rng.integers(0, IMAGE_SIZE - width + 1))
        box = (
            left + int(cols[0]),
            top + int(rows[0]),
            int(cols[-1] - cols[0] + 1),
            int(rows[-1] - rows[0] + 1),
        )
        if all(_overlap_share(box, other) <= MAX_BOX_OVERLAP for other in placed_boxes):
            return top, left, box
    return None


def _mark_object(object_map: np.ndarray, mask: np.ndarray, top: int, left: int, index: int) -> None:
    height, width = mask.shape
    object_map[top : top + height, left : left + width][mask >= 0.5] = index


def _overlap_share(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Return the intersection area of two [x, y, w, h] boxes over the smaller box's area."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    return (width * height) / min(a[2] * a[3], b[2] * b[3])
