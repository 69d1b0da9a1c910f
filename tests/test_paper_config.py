"""config.paper.yaml, the published procedure for replication, runs through the workflow: the demo
study under its settings, with the tiny model and a few training steps (the plumbing, not the
learning). The demo has no published meaning-map images, so 8-bit greyscale PNGs of its hidden
meaning stand in for them as the label source."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from meaningmaps.data.demo import make_demo_study
from meaningmaps.maps.patch_grid import PatchGrid, paper_specs

from .conftest import REPO, demo_config, ratings_csv
from .test_workflow import snakemake, write_config


def paper_demo_config(root) -> dict:
    """demo_config(root) with config.paper.yaml's procedure; only sizes and speed are the demo's."""
    paper = yaml.safe_load((REPO / "config.paper.yaml").read_text())
    cfg = demo_config(root)
    cfg["patches"]["grid"] = paper["patches"]["grid"]
    cfg["meaning_map"].update({k: paper["meaning_map"][k] for k in ("builder", "paper_sigma", "paper_power")})
    model = paper["model"]
    keep = {k: cfg["model"][k] for k in ("base", "build_tiny")}
    cfg["model"] = {**model, **keep, "device": "auto"}
    cfg["model"]["labels"] = {"from": "published", "rule": "paper"}
    # The paper's recipe (lr 2e-5, ZeRO-3) teaches a tiny random model nothing in a test's time, and its
    # random answers are outside the paper's table (all 0: a constant map, which the evaluation refuses).
    # So the tiny model is trained as the demo's is (one epoch), the one thing here that is not the paper's,
    # and only the finetuned source is rated (the untrained base answers nothing the table knows).
    demo_ft = demo_config(root)["model"]["finetune"]
    cfg["model"]["finetune"] = {**{k: demo_ft[k] for k in ("lora_r", "lora_alpha", "learning_rate", "projector_lr",
                                                          "per_device_batch", "bf16", "gradient_checkpointing")},
                                "recipe": "paper", "epochs": 1, "effective_batch": None, "zero_stage": 2,
                                "eval_heldout": False, "save_steps": 1000, "logging_steps": 20}
    cfg["model"]["sources"] = ["finetuned"]
    # fp16 and 512 new tokens are the GPU run's; on the CPU: fp32, 4 tokens, 64 patches per call
    cfg["model"]["inference"].update(dtype="fp32", max_new_tokens=4, batch_size=64)
    cfg["dataset"]["maps"]["published"] = str(root / "data" / "maps" / "published")
    cfg["evaluation"]["semipartial"] = [["human", "center"]]
    return cfg


@pytest.mark.slow
def test_demo_under_the_paper_config(tmp_path):
    make_demo_study(tmp_path / "data", n_scenes=4)
    published = tmp_path / "data" / "maps" / "published"
    published.mkdir()
    for f in sorted((tmp_path / "data" / "truth" / "meaning").glob("*.npy")):
        grey = np.rint(255 * np.load(f)).astype(np.uint8)
        Image.fromarray(grey, mode="L").save(published / f"{f.stem}.png")
    cfg = paper_demo_config(tmp_path)
    proc = snakemake(tmp_path, write_config(tmp_path / "config.yaml", cfg), timeout=1500)
    res = tmp_path / "results"
    summary = pd.read_csv(res / "evaluation" / "summary.csv").set_index("source")
    print(summary.to_string())
    assert {"human", "finetuned"} <= set(summary.index)
    # the paper's grid, its labels, prompts and builder were what ran
    scene = sorted(p.stem for p in (res / "maps" / "finetuned").glob("*.npy"))[0]
    n = {s: len(p) for s, p in PatchGrid(384, 512, paper_specs()).patches.items()}
    index = pd.read_csv(res / "patches" / scene / "index.csv")
    assert index.groupby("scale").size().to_dict() == n == {"fine": 2028, "coarse": 300}
    labelled = sorted((res / "qa" / "labels").glob("*.csv"))  # the training scenes (70/30: 3 of 4)
    assert len(labelled) == 3 and scene not in {p.stem for p in labelled}
    labels = pd.read_csv(labelled[0])
    assert len(labels) == sum(n.values()) and labels["label"].between(1, 6).all()
    assert (res / "qa" / "prompt_rating.txt").read_text().startswith("A chat between a curious human")
    rated = pd.read_csv(ratings_csv(res, "finetuned", scene))
    assert len(rated) == sum(n.values()) and set(rated["rating"]) <= set(range(7))
    m = np.load(res / "maps" / "finetuned" / f"{scene}.npy")
    assert m.shape == (384, 512) and np.isfinite(m).all()
    card = (res / "models" / "paper" / "adapter" / "meaningmaps_card.json").read_text()
    assert '"prompt_mode": "paper"' in card and "CLIPImageProcessorPil (pil)" in card
    assert proc.returncode == 0
