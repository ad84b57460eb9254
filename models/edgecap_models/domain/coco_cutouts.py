"""Object cut-outs from real COCO photos, pasted into demo scenes when enabled.

A cut-out is one COCO instance (a person, a dog, a cup) cropped to its box and masked with its
polygon segmentation. Train scenes take cut-outs from COCO train2017 and val/test scenes from
val2017, so no photo appears on both sides of the split. Cut-outs have no colour attribute.
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .vocabulary import WORDS

# The read-only COCO sample sits beside the repository in a folder named `shared`.
DEFAULT_COCO_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "coco-mini"

# instances.json gives a cut-out the category id 1000 + its COCO category id, clear of the shapes' 1-6.
CUTOUT_CATEGORY_OFFSET = 1000

# Instances smaller than this many pixels on either side of their box look like blobs when
# shrunk, and instances that fill less of their box than this share are mostly background.
_MIN_BOX_SIDE_PX = 48
_MIN_FILL = 0.35


@dataclass(frozen=True)
class Cutout:
    """One usable COCO instance: its photo, category, [x, y, w, h] box and polygons."""

    image_path: Path
    name: str
    category_id: int
    box: tuple[float, float, float, float]
    polygons: tuple[tuple[float, ...], ...]


def cutout_source(split: str) -> str:
    """Return the COCO folder that a demo split takes cut-outs from."""
    return "train2017" if split == "train" else "val2017"


@lru_cache(maxsize=4)
def load_cutouts(coco_dir: Path, source: str) -> tuple[Cutout, ...]:
    """List the usable instances of `coco_dir/annotations/instances_<source>.json`, in file order.

    An instance is kept when it is not a crowd and has a polygon mask. Its category name must
    be one word and not already a caption word ("orange" is a colour here). Its box must be at
    least 48 px a side, and its mask must fill at least 35 % of the box.
    """
    path = coco_dir / "annotations" / f"instances_{source}.json"
    if not path.exists():
        raise FileNotFoundError(f"COCO instances file not found: {path}; pass coco_dir pointing at coco-mini")
    document = json.loads(path.read_text(encoding="utf-8"))
    names = {category["id"]: category["name"] for category in document["categories"]}
    files = {image["id"]: image["file_name"] for image in document["images"]}

    cutouts = []
    for annotation in document["annotations"]:
        name = names[annotation["category_id"]]
        x, y, w, h = annotation["bbox"]
        if annotation["iscrowd"] or not isinstance(annotation["segmentation"], list):
            continue
        if " " in name or name in WORDS:
            continue
        if min(w, h) < _MIN_BOX_SIDE_PX or annotation["area"] < _MIN_FILL * w * h:
            continue
        cutouts.append(
            Cutout(
                image_path=coco_dir / source / files[annotation["image_id"]],
                name=name,
                category_id=annotation["category_id"],
                box=(x, y, w, h),
                polygons=tuple(tuple(polygon) for polygon in annotation["segmentation"]),
            )
        )
    if not cutouts:
        raise ValueError(f"no usable instances in {path}")
    return tuple(cutouts)


def render_cutout(cutout: Cutout, side: float) -> tuple[np.ndarray, np.ndarray]:
    """Scale one cut-out so its longer box side is `side` pixels.

    Returns (rgb float32 HxWx3, alpha float32 HxW in [0, 1]).
    """
    crop, mask = _crop_and_mask(cutout)
    scale = side / max(crop.size)
    size = (max(1, round(crop.size[0] * scale)), max(1, round(crop.size[1] * scale)))
    rgb = np.asarray(crop.resize(size, Image.BILINEAR), dtype=np.float32)
    alpha = np.asarray(mask.resize(size, Image.BILINEAR), dtype=np.float32) / 255.0
    return rgb, alpha


# Decoding the JPEG dominates the cost, and a split reuses each of its ~240 cut-outs many times.
@lru_cache(maxsize=512)
def _crop_and_mask(cutout: Cutout) -> tuple[Image.Image, Image.Image]:
    """Crop the photo to the instance box and draw the polygon mask at full resolution."""
    x, y, w, h = cutout.box
    left = int(np.floor(x))
    top = int(np.floor(y))
    right = int(np.ceil(x + w))
    bottom = int(np.ceil(y + h))

    with Image.open(cutout.image_path) as photo:
        crop = photo.convert("RGB").crop((left, top, right, bottom))
    mask = Image.new("L", crop.size, 0)
    draw = ImageDraw.Draw(mask)
    for polygon in cutout.polygons:
        points = [(polygon[i] - left, polygon[i + 1] - top) for i in range(0, len(polygon) - 1, 2)]
        if len(points) >= 3:
            draw.polygon(points, fill=255)
    return crop, mask
