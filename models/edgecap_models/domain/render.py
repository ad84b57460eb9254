"""Rasterise backgrounds and object shapes for the demo domain.

Shapes are drawn as anti-aliased coverage masks (drawn at 4x resolution with Pillow, then
box-filtered down), so the object map and the boxes come from the same pixels as the image.
All images are uint8 RGB, HxWx3, and all masks are float32 in [0, 1].
"""

import math

import numpy as np
from PIL import Image, ImageDraw

# Supersampling factor for shape edges.
_SUPERSAMPLE = 4


def render_background(texture: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Render one of the textures in vocabulary.BACKGROUNDS in two tinted mid tones.

    The tones stay between 70 and 190 with low saturation, away from the object colours.
    """
    base = _random_tint(rng)
    offset = rng.uniform(25.0, 45.0) * rng.choice([-1.0, 1.0])
    other = np.clip(base + offset, 60.0, 200.0)

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)

    if texture == "noise":
        # Blocky noise upsampled from a coarse grid looks like grain rather than per-pixel static.
        cell = int(rng.integers(2, 5))
        coarse = rng.normal(0.0, 1.0, size=(height // cell + 1, width // cell + 1)).astype(np.float32)
        field = np.repeat(np.repeat(coarse, cell, axis=0), cell, axis=1)[:height, :width]
        fine = rng.normal(0.0, 0.35, size=(height, width)).astype(np.float32)
        weight = np.clip(0.5 + 0.25 * (field + fine), 0.0, 1.0)
    elif texture == "stripes":
        period = rng.uniform(8.0, 20.0)
        angle = rng.choice([0.0, 0.5 * math.pi, 0.25 * math.pi, 0.75 * math.pi]) + rng.uniform(-0.1, 0.1)
        phase = rng.uniform(0.0, period)
        coordinate = xs * math.cos(angle) + ys * math.sin(angle) + phase
        weight = ((coordinate // (period / 2.0)) % 2).astype(np.float32)
    elif texture == "gradient":
        angle = rng.uniform(0.0, 2.0 * math.pi)
        coordinate = (xs - width / 2.0) * math.cos(angle) + (ys - height / 2.0) * math.sin(angle)
        span = 0.5 * (abs(width * math.cos(angle)) + abs(height * math.sin(angle)))
        weight = np.clip(0.5 + 0.5 * coordinate / span, 0.0, 1.0).astype(np.float32)
    elif texture == "checker":
        cell = rng.uniform(8.0, 20.0)
        weight = (((xs // cell) + (ys // cell)) % 2).astype(np.float32)
    else:
        raise ValueError(f"unknown background texture {texture!r}; expected noise, stripes, gradient or checker")

    image = base[None, None, :] * (1.0 - weight[..., None]) + other[None, None, :] * weight[..., None]
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _random_tint(rng: np.random.Generator) -> np.ndarray:
    level = rng.uniform(95.0, 165.0)
    # A small per-channel shift gives the grey a hue without making it a nameable colour.
    shift = rng.uniform(-14.0, 14.0, size=3)
    return np.clip(level + shift, 70.0, 190.0)


def shape_mask(kind: str, side: float, angle: float, canvas: int) -> np.ndarray:
    """Return the coverage mask of one shape centred in a `canvas` x `canvas` square.

    `side` is the shape's nominal extent in pixels and `angle` its rotation in radians.
    """
    scale = _SUPERSAMPLE
    size = canvas * scale
    centre = size / 2.0
    radius = side * scale / 2.0
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)

    if kind == "circle":
        draw.ellipse(_circle_box(centre, radius), fill=255)
    elif kind == "ring":
        draw.ellipse(_circle_box(centre, radius), fill=255)
        draw.ellipse(_circle_box(centre, radius * 0.55), fill=0)
    elif kind == "square":
        # 0.82 of the extent so a square looks as heavy as a circle of the same size.
        half = radius * 0.82
        corners = [(-half, -half), (half, -half), (half, half), (-half, half)]
        draw.polygon(_rotate(corners, angle, centre), fill=255)
    elif kind == "triangle":
        points = [(radius * math.cos(a), radius * math.sin(a)) for a in _regular_angles(3, -math.pi / 2)]
        # Shift down so the triangle's box is centred rather than its circumcentre.
        points = [(x, y + radius * 0.25) for x, y in points]
        draw.polygon(_rotate(points, angle, centre), fill=255)
    elif kind == "star":
        points = []
        for index, a in enumerate(_regular_angles(10, -math.pi / 2)):
            r = radius if index % 2 == 0 else radius * 0.45
            points.append((r * math.cos(a), r * math.sin(a) + radius * 0.1))
        draw.polygon(_rotate(points, angle, centre), fill=255)
    elif kind == "cross":
        arm = radius * 0.36
        bar = [(-radius, -arm), (radius, -arm), (radius, arm), (-radius, arm)]
        post = [(-arm, -radius), (arm, -radius), (arm, radius), (-arm, radius)]
        draw.polygon(_rotate(bar, angle, centre), fill=255)
        draw.polygon(_rotate(post, angle, centre), fill=255)
    else:
        raise ValueError(f"unknown object kind {kind!r}; expected one of circle, square, triangle, star, ring, cross")

    array = np.asarray(image, dtype=np.float32).reshape(canvas, scale, canvas, scale)
    return array.mean(axis=(1, 3)) / 255.0


def _circle_box(centre: float, radius: float) -> tuple[float, float, float, float]:
    return (centre - radius, centre - radius, centre + radius, centre + radius)


def _regular_angles(count: int, start: float) -> list[float]:
    return [start + 2.0 * math.pi * index / count for index in range(count)]


def _rotate(points: list[tuple[float, float]], angle: float, centre: float) -> list[tuple[float, float]]:
    cos_a = math.cos(angle)
    sin_a = math.sin(angle)
    return [(centre + x * cos_a - y * sin_a, centre + x * sin_a + y * cos_a) for x, y in points]


def composite(image: np.ndarray, mask: np.ndarray, top: int, left: int, rgb: np.ndarray) -> None:
    """Blend `rgb` into `image` in place with `mask` as alpha, placing the mask's top-left at (top, left).

    `rgb` is one colour (3,) or a picture of the mask's shape (H, W, 3).
    """
    height, width = mask.shape
    region = image[top : top + height, left : left + width].astype(np.float32)
    alpha = mask[..., None]
    colour = rgb if rgb.ndim == 3 else rgb[None, None, :]
    blended = region * (1.0 - alpha) + colour * alpha
    image[top : top + height, left : left + width] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
