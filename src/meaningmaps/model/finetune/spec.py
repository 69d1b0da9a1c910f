"""One fine-tuning run, as a JSON file: what to train on, with which settings, and where to write.

The rule's script writes ``models/<fold>/spec.json``; the launcher and every rank read it (the
spec is the one thing that crosses the process boundary). The output layout is here too:
``output_dir/adapter``, ``output_dir/checkpoints/<run digest>``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...atomic import save_text
from ...errors import InputError
from ..prompting import PROMPT_MODES
from .checkpoints import KEY_LENGTH
from .settings import FinetuneSettings, finetune_settings


@dataclass
class FinetuneSpec:
    """One fine-tuning run; stored as JSON (:meth:`to_json` / :meth:`from_json`), one file per run.

    ``settings``: given as the ``model.finetune`` keys (a mapping; missing keys take the recipe's and
    the schema's values), held as the complete, checked :class:`FinetuneSettings`. ``prompt``: the
    exact prompt text of the run (with the image placeholder; None:
    :func:`~meaningmaps.model.prompting.prompt_text` in ``prompt_mode``). ``eval_jsonl``: the fold's
    held-out rows, whose loss is computed after every epoch. ``record``: facts copied into the model
    card as they are (image aspect, label rule, scales, fold...).
    """

    base_model: str
    train_jsonl: str
    image_root: str
    output_dir: str
    prompt_mode: str = "llava_v1"
    prompt: str | None = None
    eval_jsonl: str | None = None
    settings: FinetuneSettings | Mapping = field(default_factory=dict)
    record: dict = field(default_factory=dict)

    def __post_init__(self):
        self.validate()

    def validate(self, source=None) -> None:
        for name in ("base_model", "train_jsonl", "image_root", "output_dir"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InputError(source, f"finetune spec: {name} must be a non-empty string, not "
                                         f"{getattr(self, name)!r}.")
        if self.prompt_mode not in PROMPT_MODES:
            raise InputError(source, f"finetune spec: prompt_mode must be one of {PROMPT_MODES}, not "
                                     f"{self.prompt_mode!r}.", "set model.prompt.")
        if self.prompt is not None and (not isinstance(self.prompt, str) or "<image>" not in self.prompt):
            raise InputError(source, "finetune spec: prompt must be the prompt text with its <image> placeholder.",
                             "write it with the workflow's prompt rule (qa/prompt.txt).")
        if not isinstance(self.settings, (Mapping, FinetuneSettings)) or not isinstance(self.record, dict):
            raise InputError(source, "finetune spec: settings and record must be objects.")
        self.settings = finetune_settings(self.settings, source or "finetune spec")

    # JSON round trip
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)  # settings: the model.finetune mapping

    @classmethod
    def from_dict(cls, d: dict, source=None) -> FinetuneSpec:
        if not isinstance(d, dict):
            raise InputError(source, "finetune spec: the JSON must be an object.")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise InputError(source, f"finetune spec: unknown field(s) {unknown}.",
                             f"the fields are {sorted(names)}; fine-tuning settings go under 'settings'.")
        try:
            return cls(**d)
        except TypeError as exc:  # a required field is missing
            raise InputError(source, f"finetune spec: {exc}.") from exc
        except InputError as exc:
            raise InputError(source, exc.problem, exc.fix) from exc

    def to_json(self, path) -> Path:
        path = Path(path)
        save_text(path, json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def from_json(cls, path) -> FinetuneSpec:
        path = Path(path)
        if not path.is_file():
            raise InputError(path, "finetune spec file does not exist.")
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(path, f"finetune spec is not valid JSON ({exc}).") from exc
        return cls.from_dict(d, source=path)

    # the output layout
    @property
    def checkpoints_root(self) -> Path:
        """``output_dir/checkpoints``: one folder per run digest (see :mod:`meaningmaps.model.finetune.checkpoints`)."""
        return Path(self.output_dir) / "checkpoints"

    def checkpoints_dir(self, run_key: str) -> Path:
        return self.checkpoints_root / run_key[:KEY_LENGTH]

    @property
    def adapter_dir(self) -> Path:
        return Path(self.output_dir) / "adapter"
