"""Demo domain: deterministic synthetic scenes of coloured shapes with known ground truth.

edgecap trains its own small captioner on these images because no pretrained weights can be
downloaded. Each 128 x 128 RGB image contains 1 to 3 objects (circle, square, triangle, star,
ring, cross) in one of 8 colours and 2 sizes on a textured background. It comes with five
reference captions and exact [x, y, w, h] pixel boxes.

Usage (with models/ on sys.path):

    from edgecap_models.domain import SPLITS, generate_scene, scene_labels, patch_labels, word_to_object

    scene = generate_scene("train", 17)      # depends only on ("train", 17)
    scene.image                              # uint8 (128, 128, 3)
    scene.captions                           # five lower-case references
    scene.objects                            # [ObjectSpec(kind, color, size, box)]
    scene_labels(scene)["kind_color"]        # (6 * 8,) multi-hot float32
    patch_labels(scene, grid=16)["kind"]     # (16, 16) int64, 0 = background
    word_to_object("a red circle".split(), scene.objects)[0].boxes

    for index in range(SPLITS["train"].size): ...

Write a split to disk in COCO layout from models/:

    /usr/bin/python3 -m edgecap_models.domain --out /tmp/demo --splits train,val,test

`generate_scene(split, index, coco_cutouts=True)` adds objects cut out of real COCO photos
(kind = COCO category name, color = None). docs/demo-domain.md lists the templates, seeds
and vocabulary (`vocabulary.WORDS`).
"""

from .captions import REFERENCES_PER_IMAGE, write_captions
from .coco_files import CATEGORIES, write_split
from .coco_cutouts import DEFAULT_COCO_DIR, load_cutouts
from .labels import CUTOUT_KIND_CLASS, WordGrounding, patch_labels, patch_object_map, scene_labels, word_to_object
from .scene import IMAGE_SIZE, SPLITS, ObjectSpec, Scene, SplitSpec, generate_scene, scene_rng
from .vocabulary import BACKGROUNDS, COLOR_NAMES, COLORS, KIND_PLURALS, KINDS, SIZES, WORDS

__all__ = [
    "BACKGROUNDS",
    "CATEGORIES",
    "CUTOUT_KIND_CLASS",
    "DEFAULT_COCO_DIR",
    "COLORS",
    "COLOR_NAMES",
    "IMAGE_SIZE",
    "KINDS",
    "KIND_PLURALS",
    "REFERENCES_PER_IMAGE",
    "SIZES",
    "SPLITS",
    "WORDS",
    "ObjectSpec",
    "Scene",
    "SplitSpec",
    "WordGrounding",
    "generate_scene",
    "load_cutouts",
    "patch_labels",
    "patch_object_map",
    "scene_labels",
    "scene_rng",
    "word_to_object",
    "write_captions",
    "write_split",
]
