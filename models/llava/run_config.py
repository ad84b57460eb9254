"""Parse and validate the caption tool's inputs: generation configs, instructions and images.

Plain Python, so the checks run (and fail early) before torch or transformers is imported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The instruction of the homework protocol that edgecap reproduces.
DEFAULT_INSTRUCTION = "Describe this image using one or more simple sentences."

# COCO captions are 10 to 15 words on average; 30 tokens leave room without letting a
# chatty reply run on. A config's max_new_tokens overrides it.
DEFAULT_MAX_NEW_TOKENS = 30

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")

# Option name -> (accepted Python types, check on the value, description of a valid value).
_OPTIONS: dict[str, tuple[tuple[type, ...], Any, str]] = {
    "name": (str, lambda value: re.fullmatch(r"[A-Za-z0-9._-]{1,64}", value) is not None, "1-64 of A-Z a-z 0-9 . _ -"),
    "do_sample": (bool, lambda value: True, "true or false"),
    "num_beams": (int, lambda value: value >= 1, "an integer >= 1"),
    "num_return_sequences": (int, lambda value: value >= 1, "an integer >= 1"),
    "temperature": ((int, float), lambda value: value > 0, "a number > 0"),
    "top_p": ((int, float), lambda value: 0 < value <= 1, "a number in (0, 1]"),
    "top_k": (int, lambda value: value >= 0, "an integer >= 0 (0 disables it)"),
    "max_new_tokens": (int, lambda value: value >= 1, "an integer >= 1"),
    "repetition_penalty": ((int, float), lambda value: value > 0, "a number > 0"),
    "length_penalty": ((int, float), lambda value: True, "a number"),
    "no_repeat_ngram_size": (int, lambda value: value >= 0, "an integer >= 0"),
    "early_stopping": (bool, lambda value: True, "true or false"),
    "seed": (int, lambda value: value >= 0, "an integer >= 0"),
}

# Options that are ours, not generate() arguments.
_TOOL_OPTIONS = ("name", "seed")


class InputError(ValueError):
    """An invalid command-line input; the message names the value and the fix."""


def _check_option(config_label: str, key: str, value: Any) -> None:
    if key not in _OPTIONS:
        raise InputError(f"{config_label}: unknown option {key!r}; valid options are {', '.join(sorted(_OPTIONS))}")

    types, check, valid = _OPTIONS[key]
    is_bool = isinstance(value, bool)
    type_matches = isinstance(value, types) and (is_bool == (types == bool))
    if not type_matches or not check(value):
        raise InputError(f"{config_label}: {key}={value!r} is invalid; expected {valid}")


def validate_generation_config(config: Any, index: int) -> dict[str, Any]:
    """Check one generation config and return it with a name and max_new_tokens filled in."""
    label = f"generation config {index}"
    if not isinstance(config, dict):
        raise InputError(f"{label}: expected a JSON object, got {type(config).__name__}")

    for key, value in config.items():
        _check_option(label, key, value)

    num_beams = config.get("num_beams", 1)
    returned = config.get("num_return_sequences", 1)
    if num_beams > 1 and returned > num_beams:
        raise InputError(f"{label}: num_return_sequences={returned} exceeds num_beams={num_beams}; lower it or widen the beam")

    sampling_only = [key for key in ("temperature", "top_p", "top_k") if key in config]
    if sampling_only and not config.get("do_sample", False):
        raise InputError(f"{label}: {', '.join(sampling_only)} only apply with \"do_sample\": true; add it or drop them")

    return {"name": f"c{index}", "max_new_tokens": DEFAULT_MAX_NEW_TOKENS, **config}


def load_generation_configs(sources: Sequence[str] | None) -> list[dict[str, Any]]:
    """Read configs from inline JSON or JSON files (an object or a list of objects each).

    Without sources, returns one greedy config. Names must be unique because they name the
    output files.
    """
    if not sources:
        return [validate_generation_config({"name": "greedy", "do_sample": False, "num_beams": 1}, 0)]

    raw: list[Any] = []
    for source in sources:
        text = source.strip()
        if not text.startswith(("{", "[")):
            path = Path(source)
            if not path.is_file():
                raise InputError(f"--config {source!r} is neither inline JSON nor an existing file")
            text = path.read_text(encoding="utf-8")
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"--config {source!r} is not valid JSON: {error}") from error
        raw.extend(parsed if isinstance(parsed, list) else [parsed])

    configs = [validate_generation_config(config, index) for index, config in enumerate(raw)]

    names = [config["name"] for config in configs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"generation config names must be unique, repeated: {', '.join(duplicates)}")
    return configs


def generate_arguments(config: dict[str, Any]) -> dict[str, Any]:
    """Return the config's keyword arguments for model.generate() (without name and seed)."""
    return {key: value for key, value in config.items() if key not in _TOOL_OPTIONS}


def decoding_strategy(config: dict[str, Any]) -> str:
    """Name the decoding strategy for the schema's config.strategy field."""
    beams = config.get("num_beams", 1) > 1
    sampling = bool(config.get("do_sample", False))
    if beams and sampling:
        return "beam-sample"
    if beams:
        return "beam"
    if sampling:
        return "sample"
    return "greedy"


def load_instructions(inline: Sequence[str] | None, file: str | None) -> list[str]:
    """Collect instructions from --instruction values and an --instruction-file.

    The file contains one instruction per line; blank lines and lines starting with '#' are skipped.
    Without either, returns the homework instruction.
    """
    instructions = [text.strip() for text in inline or []]

    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise InputError(f"--instruction-file {file!r} not found")
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                instructions.append(stripped)

    if any(text == "" for text in instructions):
        raise InputError("an instruction is empty; pass text with --instruction or remove the blank value")
    if any("<image>" in text for text in instructions):
        raise InputError("instructions must not contain '<image>': the tool places the image token itself")
    return instructions or [DEFAULT_INSTRUCTION]


def list_images(folder: str, limit: int | None = None) -> list[Path]:
    """List the image files of a folder, sorted by name, optionally only the first `limit`.

    Raises InputError when the folder is missing, contains no images, or two files share a name
    without extension (the predictions file is keyed by that name).
    """
    directory = Path(folder)
    if not directory.is_dir():
        raise InputError(f"image folder {folder!r} not found")

    images = sorted(path for path in directory.iterdir() if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS)
    if not images:
        raise InputError(f"image folder {folder!r} contains no {'/'.join(IMAGE_EXTENSIONS)} files")

    stems = [path.stem for path in images]
    duplicates = sorted({stem for stem in stems if stems.count(stem) > 1})
    if duplicates:
        raise InputError(f"images share a name without extension, which keys the predictions file: {', '.join(duplicates)}")

    if limit is not None:
        if limit < 1:
            raise InputError(f"--limit {limit} is invalid; pass a positive number of images")
        images = images[:limit]
    return images


def parse_layers(text: str) -> list[int] | None:
    """Parse --layers: 'all' (None), or comma-separated 0-based indices and ranges like '0-3,8'."""
    if text.strip().lower() == "all":
        return None

    layers: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if match is None:
            raise InputError(f"--layers {text!r} is invalid; use 'all' or indices and ranges such as '0-3,8'")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise InputError(f"--layers range {part.strip()!r} runs backwards; write it as {last}-{first}")
        layers.extend(range(first, last + 1))
    return sorted(set(layers))
