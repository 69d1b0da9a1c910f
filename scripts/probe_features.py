"""Rule probe_features: frozen vision-tower features (pooled) of every patch view of a shard of
scenes, the model loaded once; one .npz per scene in the shard's folder."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

from meaningmaps.atomic import atomic_dir  # noqa: E402
from meaningmaps.errors import InputError  # noqa: E402
from meaningmaps.model_loading import load_llava  # noqa: E402
from meaningmaps.probe import patch_features  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
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
