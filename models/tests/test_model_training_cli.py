"""Tests of the training commands' entry points: GPU-only configs, COCO-layout data on CPU."""

import subprocess
import sys
from pathlib import Path

import torch

from edgecap_models.domain import write_split
from edgecap_models.export import load_captioner

MODELS_DIR = Path(__file__).resolve().parents[1]


def run_module(*args):
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=MODELS_DIR, capture_output=True, text=True, env={"PYTHONPATH": str(MODELS_DIR)}
    )


def test_full_size_captioner_needs_gpu():
    if torch.cuda.is_available():
        return  # the message is only printed where no GPU exists
    completed = run_module("edgecap_models.train_captioner", "--full-size")
    assert completed.returncode == 2
    assert "needs a CUDA GPU" in completed.stderr


def test_full_size_coco_needs_gpu(tmp_path):
    if torch.cuda.is_available():
        return
    completed = run_module(
        "edgecap_models.train_coco", "--config", "full", "--images", str(tmp_path), "--captions", str(tmp_path / "c.json"),
        "--out", str(tmp_path / "out.pt"),
    )  # fmt: skip
    assert completed.returncode == 2
    assert "needs a CUDA GPU" in completed.stderr


def test_coco_layout_demo_config_trains_on_cpu(tmp_path):
    write_split(tmp_path, "val", count=6)
    checkpoint = tmp_path / "captioner.pt"
    completed = run_module(
        "edgecap_models.train_coco", "--config", "demo", "--images", str(tmp_path / "val" / "images"),
        "--captions", str(tmp_path / "val" / "captions.json"), "--out", str(checkpoint), "--epochs", "1",
        "--batch-images", "3", "--captions-per-image", "2", "--log", str(tmp_path / "log.jsonl"),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    model, saved = load_captioner(checkpoint)
    assert saved["steps"] == 2
    assert saved["preprocessing"]["size"] == 112
    assert model.prefix_length == 197


def test_captioner_cli_rejects_bad_options(tmp_path):
    cases = [
        (["--grounding-weight", "nan"], "--grounding-weight must be a number >= 0, got nan"),
        (["--steps", "0"], "--steps must be at least 1, got 0"),
        (["--variant", "r16_a32", "--rank", "64"], "drop --rank / --alpha"),
        (["--out", str(tmp_path)], "lacks vit.pt or decoder.pt"),
    ]
    for arguments, message in cases:
        completed = run_module("edgecap_models.train_captioner", *arguments)
        assert completed.returncode == 2, arguments
        assert message in completed.stderr, arguments


def test_release_checks_its_work_folder_first(tmp_path):
    missing = run_module("edgecap_models.release", "--work", str(tmp_path / "absent"), "--metrics", str(tmp_path / "m.json"))
    assert missing.returncode == 2
    assert "is not a folder" in missing.stderr
    (tmp_path / "captioner_r16_a32.pt").write_bytes(b"")
    wrong = run_module("edgecap_models.release", "--work", str(tmp_path), "--reference", "nope",
                       "--metrics", str(tmp_path / "m.json"))  # fmt: skip
    assert wrong.returncode == 2
    assert "runs in" in wrong.stderr
    assert "r16_a32" in wrong.stderr
    assert not (tmp_path / "m.json").exists()  # nothing written
