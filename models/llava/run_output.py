"""Output layout of the caption tool, shared with the test that writes the sample fixture.

An output folder holds:

    runs.json                  manifest: model, environment, and one entry per run
    predictions/<run id>.json  {image name without extension: caption}, the homework format
    attention/<run id>.json    JSON array of edgecap.attention/v1 documents, one per image

A run is one (instruction, generation config) pair over every image. The experiment runner
imports a folder by reading runs.json and following its relative paths.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MANIFEST_NAME = "runs.json"
MANIFEST_VERSION = "edgecap.llava-runs/v1"


def run_id(config_name: str, instruction_index: int) -> str:
    """Name a run after its config and the 0-based position of its instruction."""
    return f"{config_name}-i{instruction_index}"


def predictions_path(run: str) -> str:
    return f"predictions/{run}.json"


def attention_path(run: str) -> str:
    return f"attention/{run}.json"


def format_json(value: Any, compact: bool = False) -> str:
    """Serialise as UTF-8 JSON text: indented for reading, or compact for attention dumps.

    An attention document carries 576 numbers per token, so indentation would multiply its size.
    """
    if compact:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
    return json.dumps(value, ensure_ascii=False, indent=1) + "\n"


def write_json(path: Path, value: Any, compact: bool = False) -> None:
    """Write JSON through a temporary file and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(format_json(value, compact), encoding="utf-8")
    os.replace(temporary, path)


def build_manifest(
    model: Mapping[str, Any],
    environment: Mapping[str, Any],
    grid: tuple[int, int],
    layers: Sequence[int],
    sink_removed: bool,
    runs: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Assemble runs.json. Each run lists id, instruction, config, images and its two paths."""
    return {
        "schema": MANIFEST_VERSION,
        "model": dict(model),
        "environment": dict(environment),
        "grid": {"rows": grid[0], "cols": grid[1]},
        "layers": [int(layer) for layer in layers],
        "sink_removed": bool(sink_removed),
        "runs": [dict(run) for run in runs],
    }
