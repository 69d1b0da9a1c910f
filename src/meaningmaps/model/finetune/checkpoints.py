"""Which checkpoints a fine-tuning run may resume: only those of an interrupted run with exactly the
same inputs.

A run's checkpoints live in ``<output_dir>/checkpoints/<key>/checkpoint-<step>``, where ``<key>`` is
:func:`run_digest`: a sha256 over the CONTENT of everything that determines the trained weights --
the training JSONL and every view image it names (in row order), the held-out JSONL and its images,
the prompt text and mode, the settings that change the result (all but
:data:`~meaningmaps.model.finetune.settings.RESULT_NEUTRAL`), the number of ranks, and the base model
(a local folder: every file's name and size, the full content of files up to 64 MiB and the
safetensors header -- tensor names, shapes, dtypes, offsets -- of larger ones; a hub id: the id).
A run starts by discarding every other key's folder (:func:`discard_other_runs`, logged) and resumes
from the latest complete checkpoint of its own key; a run that finishes removes ``checkpoints/``
altogether, so nothing is left that a later run could resume.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
from pathlib import Path

from .data import read_rows

FULL_HASH_LIMIT = 64 * 2**20
KEY_LENGTH = 16  # a run's checkpoints folder: the first characters of its digest


def _file_digest(h, path: Path) -> None:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)


def _jsonl_digest(h, jsonl, image_root) -> int:
    """The JSONL's bytes, then every image it names (name and bytes, in row order). Returns the rows."""
    jsonl = Path(jsonl)
    h.update(b"jsonl\0")
    _file_digest(h, jsonl)
    rows = read_rows(jsonl, image_root)
    for row in rows:
        h.update(f"\0image\0{row.image.relative_to(image_root)}\0".encode())
        _file_digest(h, row.image)
    return len(rows)


def _safetensors_header(path: Path) -> bytes:
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return f.read(min(n, 100 * 2**20))


def model_digest(model: str) -> str:
    """A digest of a base model: a local folder's files (see the module doc), or a hub id as is."""
    path = Path(model)
    h = hashlib.sha256()
    if not path.is_dir():
        h.update(f"hub\0{model}".encode())
        return h.hexdigest()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        size = f.stat().st_size
        h.update(f"\0{f.relative_to(path)}\0{size}\0".encode())
        if size <= FULL_HASH_LIMIT:
            _file_digest(h, f)
        elif f.suffix == ".safetensors":
            h.update(_safetensors_header(f))
    return h.hexdigest()


def run_digest(spec, world_size: int) -> str:
    """The sha256 (hex) of everything that determines a run's trained weights (module doc)."""
    h = hashlib.sha256()
    h.update(json.dumps({"settings": spec.settings.result_changing(), "prompt_mode": spec.prompt_mode,
                         "prompt": spec.prompt, "world_size": int(world_size)}, sort_keys=True).encode())
    h.update(b"\0train\0")
    _jsonl_digest(h, spec.train_jsonl, Path(spec.image_root))
    if spec.eval_jsonl:
        h.update(b"\0heldout\0")
        _jsonl_digest(h, spec.eval_jsonl, Path(spec.image_root))
    h.update(b"\0base\0" + model_digest(spec.base_model).encode())
    return h.hexdigest()


def latest_checkpoint(checkpoints_dir) -> Path | None:
    """The highest ``checkpoint-<step>`` folder that was completely written (its trainer_state.json is
    the Trainer's last write), or None."""
    d = Path(checkpoints_dir)
    if not d.is_dir():
        return None
    found = []
    for p in d.iterdir():
        m = re.fullmatch(r"checkpoint-(\d+)", p.name)
        if m and p.is_dir() and (p / "trainer_state.json").is_file():
            found.append((int(m.group(1)), p))
    return max(found)[1] if found else None


def discard_other_runs(checkpoints_root, keep) -> list[str]:
    """Delete everything in ``checkpoints_root`` but the folder ``keep`` (other inputs or settings, or
    an older layout); log what went. Returns the names deleted."""
    root, keep = Path(checkpoints_root), Path(keep)
    gone = []
    if root.is_dir():
        for p in sorted(root.iterdir()):
            if p.name == keep.name:
                continue
            shutil.rmtree(p) if p.is_dir() else p.unlink()
            gone.append(p.name)
    if gone:
        print(f"[meaningmaps.model.finetune] discarded the checkpoints of another run in {root} ({', '.join(gone)}): "
              "its training data, held-out data, prompt, settings, rank count or base model differ from "
              "this run's, so it cannot be resumed; training from scratch", flush=True)
    return gone
