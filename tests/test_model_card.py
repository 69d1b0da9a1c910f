"""The model card: how a model was trained travels with it, and a model is refused when it would be
used with another prompt or other views than it was trained with."""

from __future__ import annotations

import json

import pytest

from meaningmaps.errors import InputError
from meaningmaps.model.card import CARD_NAME, check_card, read_card, write_card

TRAINED = {"base_model": "llava-hf/llava-1.5-7b-hf", "prompt_mode": "llava_v1", "prompt": "SYS USER: <image>\nQ ASSISTANT:",
           "image_aspect": "pad", "pad_fill": "processor", "background": "black", "fold": "fold0"}


def test_card_round_trip_and_agreement(tmp_path):
    write_card(tmp_path, TRAINED)
    card = read_card(tmp_path)
    assert card["format"].startswith("meaningmaps model card") and card["fold"] == "fold0"
    expected = {k: TRAINED[k] for k in ("prompt_mode", "prompt", "image_aspect", "pad_fill", "background")}
    assert check_card(tmp_path, expected)["prompt_mode"] == "llava_v1"
    assert read_card(tmp_path / "elsewhere") is None


@pytest.mark.parametrize("key,used,config_key", [
    ("prompt_mode", "chat_template", "model.prompt"), ("image_aspect", "crop", "model.image_aspect"),
    ("pad_fill", [0, 0, 0], "model.pad_fill"), ("background", "grey", "model.background"),
    ("prompt", "USER: <image>\nQ ASSISTANT:", "qa/prompt.txt")])
def test_a_model_used_otherwise_than_trained_is_refused_naming_both_values(tmp_path, key, used, config_key):
    write_card(tmp_path, TRAINED)
    with pytest.raises(InputError) as err:
        check_card(tmp_path, {key: used})
    msg = str(err.value)
    assert str(tmp_path / CARD_NAME) in msg and config_key in msg
    assert repr(TRAINED[key]) in msg and repr(used) in msg


def test_a_trained_model_without_card_is_refused_a_base_model_is_not(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        check_card(tmp_path, {"prompt_mode": "llava_v1"})
    assert check_card(tmp_path, {"prompt_mode": "llava_v1"}, required=False) is None
    (tmp_path / CARD_NAME).write_text(json.dumps({"prompt_mode": "llava_v1"}))
    with pytest.raises(InputError, match="not a"):
        check_card(tmp_path, {})
