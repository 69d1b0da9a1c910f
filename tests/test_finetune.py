"""LoRA fine-tuning: supervised tokens, module selection, two learning rates, DeepSpeed runs (CPU, gloo).

The runs use the tiny random LLaVA and 16 synthetic patches whose colour gives the answer (so the
data can be learned). Every run goes through the launcher (``torch.distributed.run`` subprocesses).
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from meaningmaps.errors import InputError
from meaningmaps.model.finetune.arguments import deepspeed_config
from meaningmaps.model.finetune.data import IGNORE_INDEX, PadCollator, PatchRatingDataset, encode_example, read_rows
from meaningmaps.model.finetune.launch import FinetuneFailed, build_command, launch, slurm_head_node
from meaningmaps.model.finetune.lora import LORA_TARGET_REGEX, add_lora, check_trainable, enable_language_checkpointing
from meaningmaps.model.finetune.spec import FinetuneSpec
from meaningmaps.model.finetune.testing_hooks import ABORT_ENV
from meaningmaps.model.prompting import CATEGORIES, QUESTION, prompt_text

pytestmark = pytest.mark.slow  # trains models: left out by scripts/test.sh --fast

N_PATCHES = 16
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


# ------------------------------------------------------------------------------------------- fixtures


def write_patch_data(root: Path, n: int = N_PATCHES) -> tuple[Path, Path]:
    """n RGB PNG patches (colour = category, plus noise) and their LLaVA-conversation JSONL."""
    from PIL import Image

    images = root / "images"
    (images / "scene").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        k = int(rng.integers(len(CATEGORIES)))
        colour = np.array([40 * k, 255 - 40 * k, 60 + 30 * (k % 3)], dtype=float)
        pixels = np.clip(colour + rng.normal(0, 12, (32, 32, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels, "RGB").save(images / "scene" / f"fine_{i}.png")
        rows.append({"id": f"scene/fine_{i}", "image": f"scene/fine_{i}.png",
                     "conversations": [{"from": "human", "value": "<image>\n" + QUESTION},
                                       {"from": "gpt", "value": CATEGORIES[k]}]})
    jsonl = root / "train.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return jsonl, images


@pytest.fixture(scope="module")
def patch_data(tmp_path_factory):
    return write_patch_data(tmp_path_factory.mktemp("patches"))


@pytest.fixture(scope="module")
def processor(tiny_llava_dir):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(tiny_llava_dir)


def make_spec(tiny_llava_dir, patch_data, out: Path, eval_jsonl=None, **over) -> Path:
    jsonl, images = patch_data
    settings = dict(seed=0, lora_r=4, lora_alpha=8, lora_dropout=0.05, learning_rate=5e-3, projector_lr=2e-3,
                    max_steps=6, save_steps=2, save_total_limit=None, per_device_batch=2, warmup_ratio=0.0,
                    dataloader_workers=0, logging_steps=1)
    settings.update(over)
    spec = FinetuneSpec(base_model=str(tiny_llava_dir), train_jsonl=str(jsonl), image_root=str(images),
                        output_dir=str(out), eval_jsonl=None if eval_jsonl is None else str(eval_jsonl),
                        settings=settings)
    return spec.to_json(out.parent / f"{out.name}.spec.json")


@pytest.fixture(scope="module")
def main_run(tiny_llava_dir, patch_data, tmp_path_factory):
    """The uninterrupted reference run: 1 rank, ZeRO-2, 6 steps, checkpoints every 2, held-out loss
    on the first 6 rows (as a stand-in held-out set)."""
    out = tmp_path_factory.mktemp("runs") / "main"
    held = out.parent / "heldout.jsonl"
    held.write_text("".join(patch_data[0].read_text().splitlines(keepends=True)[:6]))
    launch(make_spec(tiny_llava_dir, patch_data, out, eval_jsonl=held), cpu_ranks=1)
    return out


def checkpoint_dirs(out: Path) -> list[Path]:
    return sorted((out / "checkpoints").glob("*/checkpoint-*"))


def load_adapter(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(path / "adapter" / "adapter_model.safetensors")


def max_rel_diff(a: dict, b: dict) -> float:
    assert set(a) == set(b)
    return max(float((a[k] - b[k]).abs().max() / a[k].abs().max().clamp_min(1e-12)) for k in a)


def mean_answer_loss(model, dataset) -> float:
    batch = PadCollator(dataset.processor.tokenizer.pad_token_id)([dataset[i] for i in range(len(dataset))])
    with torch.no_grad():
        return float(model.eval()(**batch).loss)


# ------------------------------------------------------------------------------------------- spec, data


def test_spec_json_round_trip_and_checks(tmp_path):
    from meaningmaps.config import load_schema

    spec = FinetuneSpec(base_model="m", train_jsonl="t.jsonl", image_root="img", output_dir="out",
                        settings={"zero_stage": 3, "train_projector": False, "save_total_limit": None})
    back = FinetuneSpec.from_json(spec.to_json(tmp_path / "s.json"))
    assert back == spec
    assert json.loads((tmp_path / "s.json").read_text())["settings"] == spec.settings.to_dict()
    # every default comes from the config schema (the one source), e.g. the LLaVA-1.5 LoRA recipe's
    schema = load_schema()["properties"]["model"]["properties"]["finetune"]["properties"]
    settings = spec.settings.to_dict()
    assert list(settings) == list(schema)
    for key, prop in schema.items():
        if key not in ("zero_stage", "train_projector", "save_total_limit"):
            assert settings[key] == prop["default"], key
    s = spec.settings
    assert (s.lora_r, s.lora_alpha, s.lora_dropout, s.learning_rate, s.projector_lr, s.lr_scheduler, s.warmup_ratio,
            s.per_device_batch, s.bf16, s.logging_steps, s.max_grad_norm, s.dataloader_workers) == (
        128, 256, 0.05, 2e-4, 2e-5, "cosine", 0.03, 16, True, 10, 1.0, 4)
    assert (s.zero_stage, s.train_projector, s.save_total_limit) == (3, False, None)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**spec.to_dict(), "lora_rank": 4}))
    with pytest.raises(InputError, match="unknown field"):
        FinetuneSpec.from_json(bad)
    for key, value, says in (("zero_stage", 1, "model.finetune.zero_stage"), ("lora_rank", 4, "lora_rank"),
                             ("max_steps", 0, "model.finetune.max_steps")):
        bad.write_text(json.dumps({**spec.to_dict(), "settings": {key: value}}))
        with pytest.raises(InputError, match=says) as err:
            FinetuneSpec.from_json(bad)
        assert str(bad) in str(err.value)


def test_settings_class_is_the_schema():
    """FinetuneSettings names what the schema holds (model.finetune): the same keys in the same order,
    each of the schema's type; the defaults and descriptions stay in the schema alone."""
    import dataclasses
    import typing

    from meaningmaps.model.finetune.settings import FinetuneSettings
    from meaningmaps.schema import finetune_schema

    def python_type(prop: dict):
        if "enum" in prop:
            kinds = {type(v) for v in prop["enum"]}
            assert len(kinds) == 1, prop
            return kinds.pop()
        kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        named = {"integer": int, "number": float, "boolean": bool, "string": str}
        types = [named[k] for k in kinds if k != "null"]
        assert len(types) == 1, prop
        return types[0] | None if "null" in kinds else types[0]

    schema = finetune_schema()["properties"]
    hints = typing.get_type_hints(FinetuneSettings)
    fields = dataclasses.fields(FinetuneSettings)
    assert [f.name for f in fields] == list(schema)
    assert {name: hints[name] for name in schema} == {name: python_type(prop) for name, prop in schema.items()}
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in fields)


def test_test_hooks_load_only_when_asked(monkeypatch):
    """The test-only callbacks (testing_hooks.py) are not imported by a real run."""
    import subprocess
    import sys

    from meaningmaps.model.finetune import testing_hooks, train

    assert train.TEST_HOOK_VARIABLES == testing_hooks.VARIABLES
    for name in testing_hooks.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert train.callbacks_for_tests() == []
    monkeypatch.setenv(ABORT_ENV, "3")
    assert [type(c).__name__ for c in train.callbacks_for_tests()] == ["AbortAfterSave"]
    code = ("import sys, meaningmaps.model.finetune.train as t; t.callbacks_for_tests(); "
            "print('meaningmaps.model.finetune.testing_hooks' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k not in testing_hooks.VARIABLES}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.stdout.split() == ["False"], out.stderr[-800:]


def test_paper_recipe_and_effective_batch():
    from meaningmaps.config import validate_config
    from meaningmaps.model.finetune.settings import finetune_settings, grad_accum_for

    paper = finetune_settings({"recipe": "paper"})
    assert (paper.learning_rate, paper.epochs, paper.per_device_batch, paper.effective_batch,
            paper.zero_stage, paper.lora_r, paper.lora_alpha) == (2e-5, 2, 4, 24, 3, 128, 256)
    assert finetune_settings({"recipe": "paper", "epochs": 1}).epochs == 1  # the config's keys win
    assert grad_accum_for(paper, 6) == 1 and grad_accum_for(paper, 1) == 6 and grad_accum_for(paper, 2) == 3
    with pytest.raises(InputError, match="per_device_batch to one of") as err:
        grad_accum_for(paper, 4)  # 24 / (4 x 4) is not whole
    assert "[1, 2, 3, 6]" in str(err.value)
    assert grad_accum_for(finetune_settings({"grad_accum": 3}), 4) == 3
    # through the config, as the Snakefile does it (the recipe before the defaults)
    cfg = validate_config({"model": {"finetune": {"recipe": "paper", "zero_stage": 2}}})
    assert cfg["model"]["finetune"]["learning_rate"] == 2e-5 and cfg["model"]["finetune"]["zero_stage"] == 2
    assert validate_config({})["model"]["finetune"]["learning_rate"] == 2e-4


def test_run_digest_follows_content_not_paths(tmp_path, patch_data, tiny_llava_dir):
    """The checkpoint key: changed content (a label, one image's pixels), a result-changing setting,
    the rank count or the prompt give a new key; a result-neutral setting does not."""
    import shutil

    from meaningmaps.model.finetune.checkpoints import run_digest

    data = tmp_path / "data"
    shutil.copytree(patch_data[1], data / "images")
    shutil.copy(patch_data[0], data / "train.jsonl")

    def spec(**over):
        fields = dict(base_model=str(tiny_llava_dir), train_jsonl=str(data / "train.jsonl"),
                      image_root=str(data / "images"), output_dir=str(tmp_path / "out"))
        return FinetuneSpec(**{**fields, **over})

    key = run_digest(spec(), 1)
    assert run_digest(spec(output_dir=str(tmp_path / "elsewhere")), 1) == key
    assert run_digest(spec(settings={"save_steps": 7, "logging_steps": 1, "dataloader_workers": 0}), 1) == key
    assert run_digest(spec(settings={"learning_rate": 1e-3}), 1) != key
    assert run_digest(spec(), 2) != key
    assert run_digest(spec(prompt_mode="chat_template"), 1) != key
    image = data / "images" / "scene" / "fine_3.png"
    saved = image.read_bytes()
    from PIL import Image

    with Image.open(image) as im:
        pixels = np.asarray(im).copy()
    pixels[0, 0] ^= 1
    Image.fromarray(pixels).save(image)
    assert run_digest(spec(), 1) != key
    image.write_bytes(saved)
    assert run_digest(spec(), 1) == key
    rows = (data / "train.jsonl").read_text()
    (data / "train.jsonl").write_text(rows.replace('"value": "low"}', '"value": "high"}', 1))
    assert rows != (data / "train.jsonl").read_text() and run_digest(spec(), 1) != key


def test_reader_names_file_and_line(tmp_path, patch_data):
    jsonl, images = patch_data
    lines = jsonl.read_text().splitlines()
    assert len(read_rows(jsonl, images)) == N_PATCHES
    row = json.loads(lines[2])

    def with_turn(i, value):
        conv = [dict(c) for c in row["conversations"]]
        conv[i]["value"] = value
        return json.dumps({**row, "conversations": conv})

    cases = {"missing image": (json.dumps({**row, "image": "scene/nope.png"}), "nope.png"),
             "not json": ("{not json", "not valid JSON"),
             "bad answer": (with_turn(1, "medium"), "categories"),
             "other question": (with_turn(0, "<image>\nIs this patch beautiful?"), "rating question")}
    for name, (line3, expected) in cases.items():
        bad = tmp_path / f"{name.replace(' ', '_')}.jsonl"
        bad.write_text("\n".join(lines[:2] + [line3] + lines[3:]) + "\n")
        with pytest.raises(InputError) as err:
            read_rows(bad, images)
        msg = str(err.value)
        assert str(bad) in msg and "line 3" in msg and expected in msg, (name, msg)


def test_supervised_tokens_are_the_answer_and_eos(processor, patch_data, tiny_llava_dir):
    """Exactly the answer words and </s> carry labels; no prompt or image token does."""
    from PIL import Image

    tok = processor.tokenizer
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    image_id = tok.convert_tokens_to_ids(processor.image_token)
    n_image_tokens = (56 // 14) ** 2
    examples = {}
    for category in CATEGORIES:
        ex = encode_example(processor, image, category)
        ids, labels = ex["input_ids"], ex["labels"]
        supervised = labels[labels != IGNORE_INDEX]
        n_answer = len(category.split()) + 1
        # the supervised tokens: the category's words, then the end-of-sequence token
        assert tok.decode(supervised[:-1]).strip() == category
        assert tok.convert_ids_to_tokens(supervised.tolist()) == category.split() + ["</s>"]
        assert int(supervised[-1]) == tok.eos_token_id and tok.decode(supervised[-1:]) == "</s>"
        # they are the last tokens of the sequence, labelled with their own ids (the model shifts)
        assert len(supervised) == n_answer
        assert torch.equal(labels[-n_answer:], ids[-n_answer:])
        assert bool((labels[:-n_answer] == IGNORE_INDEX).all())
        # everything before is the prompt, image tokens included, and none of it is supervised
        assert int((ids == image_id).sum()) == n_image_tokens
        assert not bool((supervised == image_id).any())
        prompt_ids = tok(prompt_text(processor).replace("<image>", "<image>" * n_image_tokens))["input_ids"]
        assert ids[:-n_answer].tolist() == prompt_ids
        assert tok.convert_ids_to_tokens(ids[-n_answer - 2:-n_answer].tolist()) == ["ASSISTANT", ":"]
        examples[category] = ex

    # collator: right padding, pads unsupervised and masked; each row's labels unchanged
    feats = [examples["low"], examples["somewhat high"], examples["very low"]]
    batch = PadCollator(tok.pad_token_id)(feats)
    width = max(len(f["input_ids"]) for f in feats)
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape == (3, width)
    assert batch["pixel_values"].shape == (3, 3, 56, 56)
    for i, f in enumerate(feats):
        k = len(f["input_ids"])
        assert torch.equal(batch["labels"][i, :k], f["labels"]) and torch.equal(batch["input_ids"][i, :k],
                                                                                 f["input_ids"])
        assert bool((batch["labels"][i, k:] == IGNORE_INDEX).all())
        assert bool((batch["input_ids"][i, k:] == tok.pad_token_id).all())
        assert batch["attention_mask"][i].tolist() == [1] * k + [0] * (width - k)

    # the model's loss on the batch is the mean negative log-probability of exactly those tokens
    from transformers import LlavaForConditionalGeneration

    model = LlavaForConditionalGeneration.from_pretrained(tiny_llava_dir).eval()
    with torch.no_grad():
        out = model(**batch)
    logp = torch.log_softmax(out.logits.float(), dim=-1)
    nll = []
    for i, f in enumerate(feats):
        for t in range(1, len(f["input_ids"])):
            if int(f["labels"][t]) != IGNORE_INDEX:
                nll.append(-float(logp[i, t - 1, f["labels"][t]]))
    assert len(nll) == 2 + 3 + 3
    assert float(out.loss) == pytest.approx(sum(nll) / len(nll), rel=1e-5)

    # the dataset gives the same encoding for its rows
    ds = PatchRatingDataset(*patch_data, processor)
    row = ds.rows[0]
    item = ds[0]
    sup = item["labels"][item["labels"] != IGNORE_INDEX]
    assert tok.decode(sup[:-1]).strip() == row.answer and int(sup[-1]) == tok.eos_token_id


def test_lora_on_language_model_only_and_two_learning_rates(tiny_llava_dir, patch_data, tmp_path):
    from peft.tuners.lora import LoraLayer
    from transformers import LlavaForConditionalGeneration, Trainer, TrainingArguments

    from meaningmaps.model.finetune.trainer import LlavaLoraTrainer, optimizer_param_groups

    assert issubclass(LlavaLoraTrainer, Trainer)
    for train_projector in (True, False):
        spec = FinetuneSpec.from_json(make_spec(tiny_llava_dir, patch_data, tmp_path / f"sel{train_projector}",
                                                train_projector=train_projector))
        base = LlavaForConditionalGeneration.from_pretrained(tiny_llava_dir)
        model = add_lora(base, spec.settings)
        enable_language_checkpointing(model)
        names = dict(model.named_parameters())
        assert not any(p.requires_grad for n, p in names.items() if "vision_tower" in n)
        lora_modules = [n for n, m in model.named_modules() if isinstance(m, LoraLayer)]
        n_layers = base.config.text_config.num_hidden_layers
        assert len(lora_modules) == n_layers * len(PROJECTIONS)
        for n in lora_modules:
            assert ".language_model.layers." in n and "vision_tower" not in n and n.endswith(PROJECTIONS), n
        projector = {n: p for n, p in names.items() if "multi_modal_projector" in n}
        trainable_projector = {n for n, p in projector.items() if p.requires_grad}
        assert bool(trainable_projector) == train_projector
        assert all("modules_to_save" in n for n in trainable_projector)
        assert all(p.requires_grad == ("lora_" in n or n in trainable_projector) for n, p in names.items())
        counts = check_trainable(model, train_projector)
        assert (counts["projector"] > 0) == train_projector
        # activation checkpointing on the language model's layers only
        lm_layers = model.get_base_model().model.language_model.layers
        vision_layers = model.get_base_model().model.vision_tower.encoder.layers
        assert all(layer.gradient_checkpointing for layer in lm_layers)
        assert not any(getattr(layer, "gradient_checkpointing", False) for layer in vision_layers)
        # every other layer (what bench/gpu_speed.py measures as gc2): layers 0, 2, ... only
        enable_language_checkpointing(model, every_n_layers=2)
        assert [layer.gradient_checkpointing for layer in lm_layers] == [i % 2 == 0 for i in range(len(lm_layers))]
        assert not any(getattr(layer, "gradient_checkpointing", False) for layer in vision_layers)
        enable_language_checkpointing(model)

        # the Trainer subclass builds AdamW with the LoRA lr and the projector lr
        args = TrainingArguments(output_dir=str(tmp_path / "t"), use_cpu=True, learning_rate=spec.settings.learning_rate,
                                 weight_decay=0.1, optim="adamw_torch", report_to="none")
        trainer = LlavaLoraTrainer(model=model, args=args, projector_lr=spec.settings.projector_lr)
        opt = trainer.create_optimizer()
        assert isinstance(opt, torch.optim.AdamW)
        lrs = {g["name"]: g["lr"] for g in opt.param_groups}
        assert opt.param_groups[0]["lr"] == spec.settings.learning_rate  # the logged learning rate is LoRA's
        seen = [id(p) for g in opt.param_groups for p in g["params"]]
        assert sorted(seen) == sorted(id(p) for p in model.parameters() if p.requires_grad)
        for g in opt.param_groups:
            part = "projector" if g["name"].startswith("projector") else "lora"
            assert g["lr"] == (spec.settings.projector_lr if part == "projector" else spec.settings.learning_rate)
            by_id = {id(p): n for n, p in names.items()}
            assert all(("multi_modal_projector" in by_id[id(p)]) == (part == "projector") for p in g["params"])
            assert g["weight_decay"] == (0.0 if g["name"].endswith("no_decay") else 0.1)
        if train_projector:
            assert set(lrs.values()) == {spec.settings.learning_rate, spec.settings.projector_lr}
            assert "projector_no_decay" in lrs  # the projector's biases
        else:
            assert set(lrs.values()) == {spec.settings.learning_rate}
        groups = optimizer_param_groups(model, 1.0, 0.5, 0.0, set())
        assert all(g["weight_decay"] == 0.0 for g in groups)
    assert LORA_TARGET_REGEX  # recorded in the adapter config below


def test_deepspeed_configs():
    for stage in (2, 3):
        cfg = deepspeed_config(stage)
        assert cfg["zero_optimization"]["stage"] == stage
        assert "optimizer" not in cfg and "scheduler" not in cfg
        assert cfg["zero_allow_untested_optimizer"] is True
        for key in ("train_micro_batch_size_per_gpu", "train_batch_size", "gradient_accumulation_steps",
                    "gradient_clipping"):
            assert cfg[key] == "auto"
        assert cfg["bf16"] == {"enabled": "auto"}
    assert deepspeed_config(3)["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True
    with pytest.raises(ValueError):
        deepspeed_config(1)


# ------------------------------------------------------------------------------------------- launcher


def test_launch_commands(tmp_path, monkeypatch):
    spec = tmp_path / "spec.json"
    single = build_command(spec, 2, env={}, port=12345)
    assert single[1:] == ["-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "12345",
                          "-m", "meaningmaps.model.finetune", "--spec", str(spec.resolve())]
    assert int(build_command(spec, 1, env={})[6]) > 0  # a free port is picked

    # multi-node SLURM form, with a fake scontrol (nothing real is called)
    fake = tmp_path / "bin" / "scontrol"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n[ \"$1 $2 $3\" = \"show hostnames gpu[07-08]\" ] && printf 'gpu07\\ngpu08\\n'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    env = {"SLURM_NNODES": "2", "SLURM_JOB_ID": "4711", "SLURM_JOB_NODELIST": "gpu[07-08]"}
    assert slurm_head_node(env) == "gpu07"
    cmd = build_command(spec, 4, env=env)
    assert cmd[:2] == ["srun", "--ntasks-per-node=1"]
    assert cmd[3:5] == ["-m", "torch.distributed.run"]
    opts = cmd[5:]
    for flag, value in (("--nnodes", "2"), ("--nproc_per_node", "4"), ("--rdzv_backend", "c10d"),
                        ("--rdzv_endpoint", "gpu07:29500"), ("--rdzv_id", "4711"), ("--spec", str(spec.resolve()))):
        assert opts[opts.index(flag) + 1] == value
    assert "--master_port" not in cmd
    assert cmd[-4:-2] == ["-m", "meaningmaps.model.finetune"]


# ------------------------------------------------------------------------------------------- training runs


def test_one_rank_zero2_learns_and_writes_outputs(main_run, tiny_llava_dir, patch_data, processor):
    from peft import PeftModel
    from transformers import LlavaForConditionalGeneration

    adapter = main_run / "adapter"
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    assert cfg["target_modules"] == LORA_TARGET_REGEX and cfg["r"] == 4
    assert cfg["modules_to_save"] == ["multi_modal_projector"]
    assert not list(main_run.glob(".adapter*"))  # the temporary folder was renamed

    info = json.loads((main_run / "run_info.json").read_text())
    assert info["resumed_from"] is None and info["global_step"] == 6 and info["world_size"] == 1
    assert info["precision"] == "fp32"  # bf16 requested, CPU: fp32
    assert {g["initial_lr"] for g in info["optimizer_groups"]} == {5e-3, 2e-3}  # survived DeepSpeed
    assert info["optimizer_groups"][0]["name"] == "lora"

    loss = pd.read_csv(main_run / "loss.csv")
    assert list(loss.columns) == ["step", "epoch", "loss", "learning_rate", "grad_norm", "eval_loss"]
    assert loss["step"].tolist() == [1, 2, 3, 4, 5, 6]
    assert loss[["loss", "grad_norm", "learning_rate"]].notna().all().all()
    # the held-out loss at the last step (6 steps stop inside the first epoch), and the references
    assert loss["eval_loss"].notna().tolist() == [False] * 5 + [True]
    ref = info["reference_loss"]
    answers = [json.loads(line)["conversations"][1]["value"] for line in patch_data[0].open()]
    freq = {c: answers.count(c) / len(answers) for c in CATEGORIES}
    n_tok = {c: len(c.split()) + 1 for c in CATEGORIES}  # the words and </s>
    assert ref["train"] == pytest.approx(sum(-math.log(freq[a]) for a in answers) / sum(n_tok[a] for a in answers))
    assert ref["heldout"] == pytest.approx(sum(-math.log(freq[a]) for a in answers[:6])
                                           / sum(n_tok[a] for a in answers[:6]))
    card = json.loads((adapter / "meaningmaps_card.json").read_text())
    assert card["prompt_mode"] == "llava_v1" and card["prompt"] == prompt_text(processor)
    assert card["base_model"] == str(tiny_llava_dir) and card["run_digest"] == info["run_digest"]
    assert loss["learning_rate"].iloc[0] == pytest.approx(5e-3)  # cosine from the peak, no warmup here
    assert loss["learning_rate"].is_monotonic_decreasing
    assert (main_run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (main_run / "checkpoints").exists()  # a finished run leaves nothing to resume

    # the answer loss on the (memorisable) training data went down
    dataset = PatchRatingDataset(*patch_data, processor)
    before = mean_answer_loss(LlavaForConditionalGeneration.from_pretrained(tiny_llava_dir), dataset)
    tuned = PeftModel.from_pretrained(LlavaForConditionalGeneration.from_pretrained(tiny_llava_dir), str(adapter))
    after = mean_answer_loss(tuned, dataset)
    assert after < before - 0.3, (before, after)
    assert loss["loss"].iloc[-2:].mean() < loss["loss"].iloc[:2].mean()


def test_resume_after_kill_matches_uninterrupted_run(main_run, tiny_llava_dir, patch_data, tmp_path, capfd):
    out = tmp_path / "resumed"
    held = main_run.parent / "heldout.jsonl"
    spec = make_spec(tiny_llava_dir, patch_data, out, eval_jsonl=held)
    with pytest.raises(FinetuneFailed, match="checkpoint-4") as err:
        launch(spec, env={**os.environ, ABORT_ENV: "4"})
    assert err.value.returncode != 0
    assert [p.name for p in checkpoint_dirs(out)] == ["checkpoint-2", "checkpoint-4"]
    assert not (out / "adapter").exists()
    capfd.readouterr()

    launch(spec)
    logs = capfd.readouterr()
    assert "resuming from checkpoint" in logs.out + logs.err and "checkpoint-4" in logs.out + logs.err
    info = json.loads((out / "run_info.json").read_text())
    assert Path(info["resumed_from"]).name == "checkpoint-4" and info["global_step"] == 6
    assert not (out / "checkpoints").exists()
    loss = pd.read_csv(out / "loss.csv")
    assert loss["step"].tolist() == [1, 2, 3, 4, 5, 6]

    # same seed, same result: adapter and losses equal to the uninterrupted run
    assert max_rel_diff(load_adapter(out), load_adapter(main_run)) < 1e-5
    b = pd.read_csv(main_run / "loss.csv")
    np.testing.assert_allclose(loss["loss"], b["loss"], rtol=1e-5)
    np.testing.assert_allclose(loss["learning_rate"], b["learning_rate"], rtol=1e-9)
    np.testing.assert_allclose(loss["eval_loss"], b["eval_loss"], rtol=1e-5)


def test_changed_data_discards_checkpoints_and_trains_from_scratch(tiny_llava_dir, patch_data, tmp_path, capfd):
    """The bug this guards against: checkpoints outlived a data change and were resumed, giving the
    old model. A rerun on other data must discard them (and say so) and train from scratch."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(patch_data[1], data / "images")
    shutil.copy(patch_data[0], data / "train.jsonl")
    out = tmp_path / "run"
    spec = make_spec(tiny_llava_dir, (data / "train.jsonl", data / "images"), out)
    with pytest.raises(FinetuneFailed):
        launch(spec, env={**os.environ, ABORT_ENV: "4"})
    assert len(checkpoint_dirs(out)) == 2
    # every label moves one category up (the last wraps round)
    rows = [json.loads(line) for line in (data / "train.jsonl").open()]
    for r in rows:
        r["conversations"][1]["value"] = CATEGORIES[(CATEGORIES.index(r["conversations"][1]["value"]) + 1) % 6]
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    capfd.readouterr()
    launch(spec)
    logs = capfd.readouterr()
    text = logs.out + logs.err
    assert "discarded the checkpoints of another run" in text and "resuming" not in text
    info = json.loads((out / "run_info.json").read_text())
    assert info["resumed_from"] is None and info["global_step"] == 6
    assert not (out / "checkpoints").exists()


def test_paper_recipe_runs(tiny_llava_dir, patch_data, tmp_path):
    """recipe: paper (lr 2e-5, per-device batch 4, effective batch 24, ZeRO-3) runs as it is: on one
    CPU rank 24 samples per step are 4 x 6 accumulated micro-batches."""
    out = tmp_path / "paper"
    jsonl, images = patch_data
    spec = FinetuneSpec(base_model=str(tiny_llava_dir), train_jsonl=str(jsonl), image_root=str(images),
                        output_dir=str(out), settings={"recipe": "paper", "max_steps": 1, "dataloader_workers": 0,
                                                       "gradient_checkpointing": False, "logging_steps": 1})
    launch(spec.to_json(tmp_path / "paper.json"))
    info = json.loads((out / "run_info.json").read_text())
    assert (info["zero_stage"], info["grad_accum"], info["samples_per_step"], info["global_step"]) == (3, 6, 24, 1)
    assert {g["initial_lr"] for g in info["optimizer_groups"]} == {2e-5}  # LoRA and projector alike
    card = json.loads((out / "adapter" / "meaningmaps_card.json").read_text())
    assert card["settings"]["recipe"] == "paper" and card["settings"]["epochs"] == 2


def test_two_ranks_gloo_zero2(tiny_llava_dir, patch_data, tmp_path):
    out = tmp_path / "two"
    launch(make_spec(tiny_llava_dir, patch_data, out, per_device_batch=1, max_steps=4, save_steps=4),
           cpu_ranks=2)
    info = json.loads((out / "run_info.json").read_text())
    assert info["world_size"] == 2 and info["global_step"] == 4
    loss = pd.read_csv(out / "loss.csv")
    assert loss["step"].tolist() == [1, 2, 3, 4] and np.isfinite(loss["loss"]).all()
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    # each step took 2 rows (1 per rank): 16 rows are 8 steps per epoch
    assert loss["epoch"].iloc[-1] == pytest.approx(4 / 8)


def test_zero3_one_rank_gathers_the_same_adapter(main_run, tiny_llava_dir, patch_data, tmp_path):
    """ZeRO-3 partitions parameters; the saved adapter must be the gathered, trained one: the same
    run as the ZeRO-2 reference, up to summation order."""
    out = tmp_path / "z3"
    launch(make_spec(tiny_llava_dir, patch_data, out, zero_stage=3))
    info = json.loads((out / "run_info.json").read_text())
    assert info["zero_stage"] == 3 and info["global_step"] == 6
    z3, z2 = load_adapter(out), load_adapter(main_run)
    assert {k: v.shape for k, v in z3.items()} == {k: v.shape for k, v in z2.items()}
    assert max_rel_diff(z3, z2) < 1e-3
    np.testing.assert_allclose(pd.read_csv(out / "loss.csv")["loss"], pd.read_csv(main_run / "loss.csv")["loss"],
                               rtol=1e-4)
    assert not math.isnan(float(pd.read_csv(out / "loss.csv")["grad_norm"].iloc[-1]))
