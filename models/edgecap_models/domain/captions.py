"""Reference captions for demo scenes, written from templates.

Each scene gets five different references. They vary word order, the optional size word, an
opening phrase, the background phrase and a spatial relation or position, but always name
every object with the same colour and kind words. That shared core keeps the references
close in n-grams, so a captioner that names the scene right scores well under CIDEr-D.
Captions are lower-case words separated by single spaces, without punctuation.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .vocabulary import BACKGROUNDS, KIND_PLURALS, NUMBER_WORDS, POSITION_PHRASES, SIZE_WORDS

if TYPE_CHECKING:
    from .scene import ObjectSpec

REFERENCES_PER_IMAGE = 5

# Minimum offset in pixels between two centres, along the dominant axis, for a directional
# relation. Closer pairs are "next to" each other.
_RELATION_MIN_OFFSET_PX = 16.0

_IMAGE_SIZE = 128


@dataclass(frozen=True)
class _Group:
    """Objects that share kind and colour, named together ("two red circles")."""

    kind: str
    color: str | None  # None for a COCO cut-out
    count: int
    size: str | None  # None when the members differ in size
    centre_x: float
    centre_y: float


def write_captions(objects: "list[ObjectSpec]", background: str, rng: np.random.Generator) -> list[str]:
    """Write five distinct reference captions for a scene.

    Raises ValueError for a scene without objects, because every template names an object.
    """
    if not objects:
        raise ValueError("cannot caption a scene without objects")

    groups = _group_objects(objects)
    background_word = BACKGROUNDS[background]
    styles = [_style_list, _style_background, _style_lead, _style_where, _style_mixed]

    captions: list[str] = []
    for style in styles:
        # Templates draw random choices, so a repeat is redrawn. The styles differ in their
        # fixed words, so a few tries suffice.
        for _ in range(20):
            caption = style(groups, background_word, rng)
            if caption not in captions:
                break
        captions.append(caption)

    order = rng.permutation(len(captions))
    return [captions[i] for i in order]


def _group_objects(objects: "list[ObjectSpec]") -> list[_Group]:
    members: dict[tuple[str, str], list[ObjectSpec]] = {}
    for spec in objects:
        members.setdefault((spec.kind, spec.color), []).append(spec)

    groups = []
    for (kind, color), specs in members.items():
        sizes = {spec.size for spec in specs}
        centre_x = sum(spec.box[0] + spec.box[2] / 2.0 for spec in specs) / len(specs)
        centre_y = sum(spec.box[1] + spec.box[3] / 2.0 for spec in specs) / len(specs)
        size = sizes.pop() if len(sizes) == 1 else None
        groups.append(_Group(kind, color, len(specs), size, centre_x, centre_y))
    return groups


def _noun_phrase(group: _Group, with_size: bool, rng: np.random.Generator) -> str:
    words = []
    if with_size and group.size is not None:
        choices = SIZE_WORDS[group.size]
        # The first size word is the main one, and a synonym appears in about one phrase in five.
        words.append(choices[0] if len(choices) == 1 or rng.random() < 0.8 else choices[1])
    if group.color is not None:
        words.append(group.color)

    if group.count == 1:
        words.append(group.kind)
        article = "an" if words[0][0] in "aeiou" else "a"
        return " ".join([article, *words])
    return " ".join([NUMBER_WORDS[group.count], *words, KIND_PLURALS[group.kind]])


def _phrases(groups: list[_Group], rng: np.random.Generator, shuffle: bool) -> list[str]:
    with_size = bool(rng.random() < 0.5)
    ordered = [groups[i] for i in rng.permutation(len(groups))] if shuffle else sorted(groups, key=lambda g: g.centre_x)
    return [_noun_phrase(group, with_size, rng) for group in ordered]


def _join(phrases: list[str], rng: np.random.Generator) -> str:
    if len(phrases) == 1:
        return phrases[0]
    if len(phrases) == 2:
        return f"{phrases[0]} {'and' if rng.random() < 0.75 else 'with'} {phrases[1]}"
    return f"{phrases[0]} {'and' if rng.random() < 0.5 else 'with'} {phrases[1]} and {phrases[2]}"


def _background_phrase(background_word: str, rng: np.random.Generator) -> str:
    preposition = "on" if rng.random() < 0.75 else "against"
    return f"{preposition} a {background_word} background"


def _lead(groups: list[_Group], first_phrase: str, rng: np.random.Generator) -> str:
    choice = int(rng.integers(0, 3))
    if choice == 0:
        return "a picture of"
    if choice == 1:
        return "an image of"
    return "there is" if first_phrase.startswith(("a ", "an ")) else "there are"


def _relation(a: _Group, b: _Group) -> str:
    """Return where `a` is relative to `b`, from their centres."""
    dx = a.centre_x - b.centre_x
    dy = a.centre_y - b.centre_y
    if abs(dx) >= abs(dy) and abs(dx) > _RELATION_MIN_OFFSET_PX:
        return "to the left of" if dx < 0 else "to the right of"
    if abs(dy) > _RELATION_MIN_OFFSET_PX:
        return "above" if dy < 0 else "below"
    return "next to"


def _position(group: _Group) -> str:
    column = min(int(group.centre_x * 3 // _IMAGE_SIZE), 2)
    row = min(int(group.centre_y * 3 // _IMAGE_SIZE), 2)
    return POSITION_PHRASES[(row, column)]


def _style_list(groups: list[_Group], background_word: str, rng: np.random.Generator) -> str:
    """"a red circle and a small blue square"."""
    return _join(_phrases(groups, rng, shuffle=True), rng)


def _style_background(groups: list[_Group], background_word: str, rng: np.random.Generator) -> str:
    """"two green stars on a striped background"."""
    return f"{_join(_phrases(groups, rng, shuffle=True), rng)} {_background_phrase(background_word, rng)}"


def _style_lead(groups: list[_Group], background_word: str, rng: np.random.Generator) -> str:
    """"a picture of a blue square and a large red circle"."""
    phrases = _phrases(groups, rng, shuffle=True)
    return f"{_lead(groups, phrases[0], rng)} {_join(phrases, rng)}"


def _style_where(groups: list[_Group], background_word: str, rng: np.random.Generator) -> str:
    """"a large red circle to the left of a small blue square", or a lone object's position."""
    if len(groups) == 1:
        phrase = _phrases(groups, rng, shuffle=False)[0]
        if groups[0].count == 1:
            return f"{phrase} {_position(groups[0])}"
        return f"{_lead(groups, phrase, rng)} {phrase} {_background_phrase(background_word, rng)}"

    if len(groups) == 2:
        first, second = (groups[i] for i in rng.permutation(2))
        with_size = bool(rng.random() < 0.5)
        relation = _relation(first, second)
        if relation == "next to" and rng.random() < 0.5:
            relation = "beside"
        return f"{_noun_phrase(first, with_size, rng)} {relation} {_noun_phrase(second, with_size, rng)}"

    # Three groups: name them left to right, which a relation chain would state less clearly.
    return f"{_join(_phrases(groups, rng, shuffle=False), rng)} {_background_phrase(background_word, rng)}"


def _style_mixed(groups: list[_Group], background_word: str, rng: np.random.Generator) -> str:
    """Write an opening phrase, the objects and either a position or the background."""
    phrases = _phrases(groups, rng, shuffle=True)
    lead = _lead(groups, phrases[0], rng)
    if len(groups) == 1 and groups[0].count == 1 and rng.random() < 0.5:
        return f"{lead} {phrases[0]} {_position(groups[0])}"
    return f"{lead} {_join(phrases, rng)} {_background_phrase(background_word, rng)}"
