"""Rule probe_features: frozen vision-tower features (pooled) of every patch view of a shard of
scenes, the model loaded once; one .npz per scene in the shard's folder."""
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from meaningmaps.atomic import atomic_dir
from meaningmaps.errors import InputError
from meaningmaps.model.loading import load_llava
from meaningmaps.model.probe import patch_features
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    jobs = []
    for scene, views, patches in zip(sm.params.scenes, sm.input.views, sm.input.patches, strict=True):
        index = pd.read_csv(Path(patches) / "index.csv")
        paths = [Path(views) / f"{s}_{k}.png" for s, k in zip(index["scale"], index["k"], strict=True)]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise InputError(missing[0], f"patch view missing ({len(missing)} in all).", "rerun rule patch_views.")
        jobs.append((scene, index, paths))
    model, processor = load_llava(sm.params.model, device=sm.params.device)
    with atomic_dir(sm.output[0]) as tmp:
        for scene, index, paths in jobs:
            images = [Image.open(p).convert("RGB") for p in paths]
            feats = patch_features(model, processor, images, batch_size=sm.params.settings["batch_size"],
                                   pooling=sm.params.settings["pooling"])
            np.savez(Path(tmp) / f"{scene}.npz", scale=index["scale"].to_numpy(dtype=str), k=index["k"].to_numpy(),
                     features=feats)
            print(f"{scene}: {feats.shape[0]} patches x {feats.shape[1]} features")
