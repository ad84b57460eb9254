"""Demo-domain tensors for training: preprocessed pixels, caption token ids and patch labels.

Preprocessing (recorded in every package manifest): resize the shorter side to 112 px with
Pillow's bicubic filter, centre-crop 112 x 112, scale to [0, 1], normalise with CLIP's mean and
std. The 128 px demo images are square, so the crop keeps the whole image.
Arrays of a split are cached as .npz under the work folder, keyed by split and count.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .domain import BACKGROUNDS, COLOR_NAMES, KINDS, SIZES, generate_scene
from .model import GPT2_END_OF_TEXT_ID, IGNORE_INDEX

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class Preprocessing:
    size: int = 112
    resample: str = "bicubic"
    crop: str = "center"
    mean: tuple = CLIP_MEAN
    std: tuple = CLIP_STD

    def manifest(self) -> dict:
        return {
            "size": self.size,
            "resize": "shorter_side",
            "resample": self.resample,
            "crop": self.crop,
            "crop_size": [self.size, self.size],
            "rescale": 1 / 255,
            "mean": list(self.mean),
            "std": list(self.std),
            "channel_order": "RGB",
            "layout": "NCHW",
        }


def resize_and_crop(image: np.ndarray, size: int) -> np.ndarray:
    """Resize the shorter side of a uint8 HxWx3 image to `size` (bicubic), centre-crop, return uint8.

    Matches torchvision's Resize(size) + CenterCrop(size), which edgecap's TypeScript runtime
    reproduces: the longer side is truncated, int(size * long / short), and the crop offsets are
    round((W - size) / 2) with Python's half-to-even rounding.
    """
    pil = Image.fromarray(image)
    width, height = pil.size
    if width <= height:
        new_w, new_h = size, int(size * height / width)
    else:
        new_w, new_h = int(size * width / height), size
    if (new_w, new_h) != (width, height):
        pil = pil.resize((new_w, new_h), Image.BICUBIC)
    left, top = int(round((new_w - size) / 2.0)), int(round((new_h - size) / 2.0))
    return np.asarray(pil.crop((left, top, left + size, top + size)))


def normalize(images_u8: np.ndarray, prep: Preprocessing = Preprocessing()) -> torch.Tensor:
    """Turn uint8 (N, H, W, 3) into normalised float32 pixel_values (N, 3, H, W)."""
    x = torch.from_numpy(np.ascontiguousarray(images_u8)).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(prep.mean).view(1, 3, 1, 1)
    std = torch.tensor(prep.std).view(1, 3, 1, 1)
    return (x - mean) / std


def patch_targets(object_map: np.ndarray, objects, grid: int, image_size: int, min_coverage: float = 0.25):
    """Return (kind, colour) class maps (grid, grid) of the resized image's patches, 0 = background.

    The object map is resized like the image (nearest neighbour, 128 -> 112 px), then each patch
    takes the object with the most pixels in it if that object covers at least `min_coverage`.
    """
    source = object_map.shape[0]
    index = np.floor((np.arange(image_size) + 0.5) * source / image_size).astype(np.int64)
    resized = object_map[index][:, index].astype(np.int64)  # (S, S)
    cell = image_size // grid
    cells = resized.reshape(grid, cell, grid, cell).transpose(0, 2, 1, 3).reshape(grid, grid, -1)
    owner = np.full((grid, grid), -1, dtype=np.int64)
    best = np.zeros((grid, grid))
    for i in range(len(objects)):
        share = (cells == i).mean(axis=-1)
        better = (share >= min_coverage) & (share > best)
        owner[better] = i
        best[better] = share[better]
    kinds = np.array([0] + [1 + KINDS.index(o.kind) for o in objects], dtype=np.int64)
    colors = np.array([0] + [1 + COLOR_NAMES.index(o.color) for o in objects], dtype=np.int64)
    return kinds[owner + 1], colors[owner + 1]


def scene_targets(objects) -> np.ndarray:
    """Multi-hot (kind*colour*size,) presence of each attribute triple in the scene."""
    target = np.zeros(len(KINDS) * len(COLOR_NAMES) * len(SIZES), dtype=np.float32)
    for o in objects:
        k, c, s = KINDS.index(o.kind), COLOR_NAMES.index(o.color), SIZES.index(o.size)
        target[(k * len(COLOR_NAMES) + c) * len(SIZES) + s] = 1.0
    return target


def build_split(split: str, count: int, image_size: int, grid: int, cache_dir: Path | None) -> dict:
    """Generate (or load from cache) `count` scenes of `split` as arrays."""
    cache = None if cache_dir is None else Path(cache_dir) / f"{split}_{count}_{image_size}_{grid}.npz"
    if cache is not None and cache.exists():
        data = np.load(cache, allow_pickle=True)
        return {key: data[key] for key in data.files}
    images, kinds, colors, scenes, captions, names, objects, backgrounds = [], [], [], [], [], [], [], []
    for index in range(count):
        scene = generate_scene(split, index)
        images.append(resize_and_crop(scene.image, image_size))
        kind_map, color_map = patch_targets(scene.object_map, scene.objects, grid, image_size)
        kinds.append(kind_map)
        colors.append(color_map)
        scenes.append(scene_targets(scene.objects))
        captions.append(list(scene.captions))
        names.append(scene.file_name.rsplit(".", 1)[0])
        backgrounds.append(list(BACKGROUNDS).index(scene.background))
        objects.append([(o.kind, o.color, o.size, tuple(o.box)) for o in scene.objects])
    data = {
        "images": np.stack(images),  # (N, S, S, 3) uint8, preprocessed geometry, not normalised
        "patch_kind": np.stack(kinds),  # (N, grid, grid)
        "patch_color": np.stack(colors),
        "scene": np.stack(scenes),
        "background": np.array(backgrounds, dtype=np.int64),
        "captions": np.array(captions, dtype=object),
        "names": np.array(names),
        "objects": np.array(objects + [None], dtype=object)[:-1],  # keep a 1-D object array
    }
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **data)
    return data


def caption_batch(token_lists: list[list[int]], max_tokens: int, end_id: int = GPT2_END_OF_TEXT_ID):
    """Pack caption token lists into input_ids and labels (N, T).

    input_ids = [begin] + caption, labels = caption + [end], padded with the end id in input_ids
    and IGNORE_INDEX in labels. Captions longer than max_tokens - 1 are cut (the end label stays).
    """
    rows = [tokens[: max_tokens - 1] for tokens in token_lists]
    T = max(len(r) for r in rows) + 1
    input_ids = torch.full((len(rows), T), end_id, dtype=torch.long)
    labels = torch.full((len(rows), T), IGNORE_INDEX, dtype=torch.long)
    for i, r in enumerate(rows):
        input_ids[i, 1 : 1 + len(r)] = torch.tensor(r, dtype=torch.long)
        labels[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        labels[i, len(r)] = end_id
    return input_ids, labels
