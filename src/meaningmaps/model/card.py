"""The card a trained model carries: how it was trained, so that it is only used the same way.

``meaningmaps_card.json`` is written into the adapter folder when training ends and copied into the
merged model. It records the base model, the prompt mode and the exact prompt text (with its image
placeholder), how the views were made (image aspect, padding fill, background), the label rule and
patch scales, the scenes trained on, the settings and the run's digest. :func:`check_card` refuses a
model whose card disagrees with how it is about to be used, naming both values.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import save_text
from ..errors import InputError

CARD_NAME = "meaningmaps_card.json"
CARD_FORMAT = "meaningmaps model card 1"
# What must agree between training and use: card key -> config key that decides it.
MUST_AGREE = {"prompt_mode": "model.prompt", "prompt": "qa/prompt.txt (model.prompt and the processor)",
              "image_aspect": "model.image_aspect", "pad_fill": "model.pad_fill", "background": "model.background"}


def view_settings(config: dict) -> dict:
    """A config's view and prompt settings, as a trained model's card records them (the keys of
    :data:`MUST_AGREE` that the config decides; the prompt text itself comes from qa/prompt.txt)."""
    m = config["model"]
    return dict(prompt_mode=m["prompt"], image_aspect=m["image_aspect"], pad_fill=m["pad_fill"],
                background=m["background"])


def write_card(folder, card: dict) -> Path:
    path = Path(folder) / CARD_NAME
    save_text(path, json.dumps({"format": CARD_FORMAT, **card}, indent=1, sort_keys=False) + "\n")
    return path


def read_card(model_dir) -> dict | None:
    """The card of a model folder, or None when it has none (a base model)."""
    path = Path(model_dir) / CARD_NAME
    if not path.is_file():
        return None
    try:
        card = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(path, f"is not valid JSON ({exc}).", "train or merge the model again.") from exc
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise InputError(path, f"is not a {CARD_FORMAT!r}.", "train or merge the model again with this version.")
    return card


def check_card(model_dir, expected: dict, *, required: bool = True) -> dict | None:
    """Refuse (InputError) a trained model whose card disagrees with ``expected`` on any key of
    :data:`MUST_AGREE` that ``expected`` gives, naming both values and the config key that decides.
    ``required``: a folder without a card is refused too (a trained model must say how it was trained).
    """
    card = read_card(model_dir)
    if card is None:
        if required:
            raise InputError(Path(model_dir) / CARD_NAME, "does not exist, so nothing says which prompt and "
                             "views this model was trained with.",
                             "merge (or train) the model again with this version of meaningmaps.")
        return None
    for key, decides in MUST_AGREE.items():
        if key not in expected or key not in card:
            continue
        if card[key] != expected[key]:
            raise InputError(Path(model_dir) / CARD_NAME,
                             f"the model was trained with {key} {card[key]!r}, but is used here with "
                             f"{expected[key]!r} ({decides}).",
                             f"set {decides} back to {card[key]!r}, or train a model under {expected[key]!r}.")
    return card
