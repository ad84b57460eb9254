"""Object kinds, colours, sizes, backgrounds and the words that name them.

Every word a reference caption can contain is listed here, so the vocabulary is closed and
`WORDS` can be checked by tests. The colours are far apart in RGB and saturated or extreme
(white, black), while backgrounds are low-saturation mid tones, so a colour name is never
ambiguous against the background.
"""

KINDS: tuple[str, ...] = ("circle", "square", "triangle", "star", "ring", "cross")

# Plural forms used in count phrases such as "two red circles".
KIND_PLURALS: dict[str, str] = {
    "circle": "circles",
    "square": "squares",
    "triangle": "triangles",
    "star": "stars",
    "ring": "rings",
    "cross": "crosses",
}

# Base RGB of each colour. Objects are drawn with a small per-object jitter (at most 12 per
# channel) around these values.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (35, 165, 55),
    "blue": (35, 75, 220),
    "yellow": (240, 215, 30),
    "purple": (135, 50, 185),
    "orange": (245, 135, 20),
    "white": (248, 248, 248),
    "black": (18, 18, 18),
}
COLOR_NAMES: tuple[str, ...] = tuple(COLORS)

SIZES: tuple[str, ...] = ("small", "large")

# Side length in pixels of the square an object is drawn in, per size, on the 128 px canvas.
# The ranges do not touch, so "small" and "large" stay separable after resizing to 112 px.
SIZE_RANGES_PX: dict[str, tuple[int, int]] = {"small": (18, 26), "large": (36, 48)}

# Caption words for each size. References use "large" most of the time and "big" as a synonym.
SIZE_WORDS: dict[str, tuple[str, ...]] = {"small": ("small",), "large": ("large", "big")}

# Background texture -> the adjective used in "on a striped background".
BACKGROUNDS: dict[str, str] = {
    "noise": "noisy",
    "stripes": "striped",
    "gradient": "shaded",
    "checker": "checkered",
}

NUMBER_WORDS: dict[int, str] = {2: "two", 3: "three"}

# Relation phrases between two objects, from the first object's point of view.
RELATIONS: tuple[str, ...] = ("to the left of", "to the right of", "above", "below", "next to", "beside")

# Position phrase of a lone object, keyed by the (row, column) third of the image its centre lies in.
POSITION_PHRASES: dict[tuple[int, int], str] = {
    (0, 0): "in the top left corner",
    (0, 1): "at the top",
    (0, 2): "in the top right corner",
    (1, 0): "on the left",
    (1, 1): "in the middle",
    (1, 2): "on the right",
    (2, 0): "in the bottom left corner",
    (2, 1): "at the bottom",
    (2, 2): "in the bottom right corner",
}

# Opening phrases that some references start with.
LEADS: tuple[str, ...] = ("a picture of", "an image of", "there is", "there are")


def _collect_words() -> frozenset[str]:
    words: set[str] = {"a", "an", "and", "with", "on", "against", "background"}
    words.update(KINDS)
    words.update(KIND_PLURALS.values())
    words.update(COLOR_NAMES)
    for size_words in SIZE_WORDS.values():
        words.update(size_words)
    words.update(BACKGROUNDS.values())
    words.update(NUMBER_WORDS.values())
    for phrase in (*RELATIONS, *POSITION_PHRASES.values(), *LEADS):
        words.update(phrase.split())
    return frozenset(words)


# Every word a reference caption may contain.
WORDS: frozenset[str] = _collect_words()

# Caption word -> (kind, is_plural), for grounding kind words back to objects.
KIND_WORDS: dict[str, tuple[str, bool]] = {
    **{kind: (kind, False) for kind in KINDS},
    **{plural: (kind, True) for kind, plural in KIND_PLURALS.items()},
}

# Caption word -> size, including synonyms.
SIZE_BY_WORD: dict[str, str] = {word: size for size, words in SIZE_WORDS.items() for word in words}
