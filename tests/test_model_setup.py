"""The model steps' set-up: the question, the tiny model's shape, the real shape, loading errors,
fold naming and the config's cross-key checks."""

from __future__ import annotations

import pytest
import yaml

from meaningmaps.config import validate_config
from meaningmaps.errors import InputError
from meaningmaps.model.loading import check_model_source, load_llava
from meaningmaps.model.prompting import CATEGORIES, LLAVA_V1_SYSTEM, QUESTION, RATING, parse_category, prompt_text
from meaningmaps.model.splits import model_folds, rating_fold

from .conftest import REPO

PAPER_QUESTION = ("Please assess the meaningfulness of the depicted patch using the following scale: "
                  "'very low,' 'low,' 'somewhat low,' 'somewhat high,' 'high,' and 'very high.' Provide "
                  "your response by selecting one of these categories.")


def test_question_and_scale_are_the_papers():
    assert QUESTION == PAPER_QUESTION
    assert [RATING[c] for c in CATEGORIES] == [1, 2, 3, 4, 5, 6]
    assert parse_category("I would say very low.") == "very low"
    assert parse_category("Somewhat High") == "somewhat high"
    assert parse_category("the answer is: low") == "low"
    assert parse_category("no idea") is None


def test_tiny_model_image_tokens_and_prompt(tiny_llava_dir):
    import numpy as np
    from PIL import Image

    model, processor = load_llava(str(tiny_llava_dir), device="cpu")
    cfg = model.config
    n_image = (cfg.vision_config.image_size // cfg.vision_config.patch_size) ** 2
    assert cfg.image_seq_length == n_image == 16
    assert prompt_text(processor) == prompt_text(processor, "llava_v1") == \
        f"{LLAVA_V1_SYSTEM} USER: <image>\n{QUESTION} ASSISTANT:"
    assert prompt_text(processor, "chat_template") == f"USER: <image>\n{QUESTION} ASSISTANT:"
    img = Image.fromarray(np.full((87, 87, 3), 128, np.uint8))
    for mode in ("llava_v1", "chat_template"):
        enc = processor(images=[img], text=[prompt_text(processor, mode)], return_tensors="pt")
        ids = enc["input_ids"][0].tolist()
        assert ids.count(cfg.image_token_id) == n_image  # the processor expands <image> to what the tower gives
        assert processor.tokenizer.convert_ids_to_tokens(ids).count("<unk>") == 0  # every prompt word is known
        out = model(**enc)  # the model accepts it: image features and image tokens agree in number
        assert out.logits.shape[:2] == enc["input_ids"].shape


def test_llava15_7b_shape_without_download():
    import torch
    from transformers import LlavaForConditionalGeneration

    from meaningmaps.model.tiny_llava import llava15_7b_config

    cfg = llava15_7b_config()
    t, v = cfg.text_config, cfg.vision_config
    assert (t.hidden_size, t.num_hidden_layers, t.num_attention_heads, t.intermediate_size, t.vocab_size) == \
        (4096, 32, 32, 11008, 32064)
    assert (v.hidden_size, v.num_hidden_layers, v.image_size, v.patch_size) == (1024, 24, 336, 14)
    assert cfg.image_seq_length == 576
    with torch.device("meta"):
        model = LlavaForConditionalGeneration(cfg)
    n = sum(p.numel() for p in model.parameters())
    assert n == 7_063_427_072  # llava-hf/llava-1.5-7b-hf's parameter count


def test_missing_model_path_says_how_to_download(tmp_path):
    with pytest.raises(InputError) as e:
        check_model_source(str(tmp_path / "nowhere"))
    assert "hf download llava-hf/llava-1.5-7b-hf" in str(e.value) and "nowhere" in str(e.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no config.json"):
        check_model_source(str(tmp_path / "empty"))


def test_hub_id_offline_and_not_cached_says_how_to_download(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    with pytest.raises(InputError) as e:
        check_model_source("llava-hf/llava-1.5-7b-hf")
    assert "hf download llava-hf/llava-1.5-7b-hf" in str(e.value)


def test_kfold_names_and_rating_fold():
    scenes = [f"s{i:02d}" for i in range(12)]
    cfg = {"scheme": "kfold", "folds": {"k": 3, "salt": 0}}
    folds = model_folds(scenes, cfg)
    assert sorted(folds) == ["fold0", "fold1", "fold2"]
    held = [s for _, (_, test) in folds.items() for s in test]
    assert sorted(held) == scenes  # every scene is held out exactly once
    for name, (train, test) in folds.items():
        assert not set(train) & set(test) and sorted(train + test) == scenes
        for s in test:
            assert rating_fold(folds, s, "kfold") == name


def test_paper_scheme_is_one_model_rating_the_30_percent():
    scenes = [f"s{i:02d}" for i in range(40)]
    folds = model_folds(scenes, {"scheme": "paper", "folds": {"k": 5, "salt": 0}})
    train, test = folds["paper"]
    assert len(test) == 12 and len(train) == 28
    with pytest.raises(InputError, match="no fold's test set"):
        rating_fold(folds, train[0], "paper")


def _demo_cfg():
    return yaml.safe_load((REPO / "demo" / "config.yaml").read_text())


def test_config_model_cross_keys():
    validate_config(_demo_cfg())
    cfg = _demo_cfg()
    cfg["model"]["labels"]["from"] = "deepgaze"
    with pytest.raises(InputError, match="deepgaze"):
        validate_config(cfg)
    cfg = _demo_cfg()
    cfg["model"]["labels"]["from"] = "salience"  # a dataset.maps source: the paper's binning rule
    validate_config(cfg)
    cfg = _demo_cfg()
    cfg["dataset"]["images"] = None
    with pytest.raises(InputError, match="dataset.images"):
        validate_config(cfg)
    cfg = _demo_cfg()
    cfg["model"]["finetune"]["zero_stage"] = 1
    with pytest.raises(InputError, match="zero_stage"):
        validate_config(cfg)


def test_real_config_defaults_are_the_llava15_lora_recipe():
    cfg = validate_config(yaml.safe_load((REPO / "config.yaml").read_text()))
    ft = cfg["model"]["finetune"]
    assert cfg["model"]["base"] == "llava-hf/llava-1.5-7b-hf"
    assert (ft["lora_r"], ft["lora_alpha"], ft["learning_rate"], ft["projector_lr"], ft["epochs"]) == \
        (128, 256, 2e-4, 2e-5, 1)
    assert (ft["lr_scheduler"], ft["warmup_ratio"], ft["bf16"], ft["gradient_checkpointing"]) == \
        ("cosine", 0.03, True, True)
    assert (ft["per_device_batch"], ft["zero_stage"]) == (16, 2)
    assert cfg["model"]["folds"]["k"] == 5 and cfg["model"]["background"] == "black"
    assert cfg["model"]["enabled"] and cfg["model"]["inference"]["mode"] == "score"


def test_tiny_tokenizer_tokenizes_both_prompts_as_original_llava():
    """The word-level test vocabulary passes the prompt rule's check (prompting.prompt_token_mismatch)."""
    from meaningmaps.model.prompting import prompt_token_mismatch
    from meaningmaps.model.tiny_llava import build_tokenizer

    tok = build_tokenizer()
    for mode in ("llava_v1", "chat_template"):
        assert prompt_token_mismatch(tok, prompt_text(None, mode)) is None


def test_schemes_kfold_and_all_train_side_by_side():
    from meaningmaps.model.splits import rating_folds, rating_scheme

    scenes = [f"s{i}" for i in range(6)]
    cfg = {"scheme": ["kfold", "all"], "folds": {"k": 2, "salt": 0}}
    folds = model_folds(scenes, cfg)
    assert folds["all"] == (scenes, []) and {"fold0", "fold1"} <= set(folds)
    assert rating_scheme(cfg) == "kfold" and "all" not in rating_folds(folds, cfg)
    for s in scenes:  # the fold models rate; the all model never does
        assert rating_fold(rating_folds(folds, cfg), s, "kfold") != "all"
    alone = {"scheme": "all", "folds": {"k": 2, "salt": 0}}
    assert rating_scheme(alone) == "all" and rating_fold(model_folds(scenes, alone), "s3", "all") == "all"
    with pytest.raises(InputError, match="lists both kfold and paper"):
        rating_scheme({"scheme": ["kfold", "paper"]})
