"""Write demo splits in the COCO file layout that edgecap's evaluation reads.

Layout under the output folder, per split:
- `<split>/images/demo_<split>_<index:06d>.png`
- `<split>/captions.json`: {"info", "images": [{id, file_name, width, height}],
  "annotations": [{id, image_id, caption}]}, five annotations per image.
- `<split>/instances.json`: {"info", "images", "categories": [{id, name, supercategory}],
  "annotations": [{id, image_id, category_id, bbox, area, iscrowd, attributes: {color, size}}]}.
Caption ids are image_id * 10 + reference number (0-4); instance ids are image_id * 10 + object number.
"""

import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .coco_cutouts import CUTOUT_CATEGORY_OFFSET
from .scene import IMAGE_SIZE, SPLITS, ObjectSpec, generate_scene
from .vocabulary import KINDS

CATEGORIES = [{"id": index + 1, "name": kind, "supercategory": "shape"} for index, kind in enumerate(KINDS)]


def write_split(
    out_dir: Path,
    split: str,
    count: int | None = None,
    coco_cutouts: bool = False,
    coco_dir: Path | None = None,
) -> dict[str, float]:
    """Generate `count` images of `split` (default: the split's size) and write them under `out_dir/split`.

    `coco_cutouts` and `coco_dir` are passed to generate_scene. Cut-outs are listed in
    instances.json with category id 1000 + their COCO category id and a null colour.
    Returns {"images": count, "seconds": wall time}.
    """
    spec = SPLITS[split]
    total = spec.size if count is None else count
    if total < 0:
        raise ValueError(f"image count for split {split!r} must be >= 0, got {total}")

    split_dir = out_dir / split
    image_dir = split_dir / "images"
    image_dir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    info = {
        "description": f"edgecap demo domain, split {split}",
        "seed": spec.seed,
        "rng": "numpy Generator(PCG64([seed, index]))",
        "coco_cutouts": coco_cutouts,
    }
    categories = list(CATEGORIES)
    cutout_categories: dict[int, str] = {}
    images = []
    captions = []
    instances = []
    for index in range(total):
        scene = generate_scene(split, index, coco_cutouts=coco_cutouts, coco_dir=coco_dir)
        Image.fromarray(scene.image).save(image_dir / scene.file_name, compress_level=6)

        images.append({"id": scene.image_id, "file_name": scene.file_name, "width": IMAGE_SIZE, "height": IMAGE_SIZE})
        for number, caption in enumerate(scene.captions):
            captions.append({"id": scene.image_id * 10 + number, "image_id": scene.image_id, "caption": caption})
        for number, spec_object in enumerate(scene.objects):
            x, y, w, h = spec_object.box
            instances.append(
                {
                    "id": scene.image_id * 10 + number,
                    "image_id": scene.image_id,
                    "category_id": _category_id(spec_object, cutout_categories),
                    "bbox": [x, y, w, h],
                    # Visible mask pixels, after later objects were drawn over this one.
                    "area": int(np.count_nonzero(scene.object_map == number)),
                    "iscrowd": 0,
                    "attributes": {"color": spec_object.color, "size": spec_object.size},
                }
            )

    _write_json(split_dir / "captions.json", {"info": info, "images": images, "annotations": captions})
    for category_id, name in sorted(cutout_categories.items()):
        categories.append({"id": category_id, "name": name, "supercategory": "coco"})
    _write_json(
        split_dir / "instances.json",
        {"info": info, "images": images, "categories": categories, "annotations": instances},
    )
    return {"images": float(total), "seconds": time.perf_counter() - started}


def _category_id(spec: ObjectSpec, cutout_categories: dict[int, str]) -> int:
    """Return the instances.json category of an object, recording cut-out categories as they appear."""
    if spec.coco_category_id is None:
        return KINDS.index(spec.kind) + 1
    category_id = CUTOUT_CATEGORY_OFFSET + spec.coco_category_id
    cutout_categories[category_id] = spec.kind
    return category_id


def _write_json(path: Path, document: dict) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, separators=(",", ":"))
        handle.write("\n")
