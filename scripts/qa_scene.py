"""Rule qa_scene: per-patch labels and one scene's question-answer rows (LLaVA JSONL)."""

from pathlib import Path

import numpy as np
import pandas as pd

from meaningmaps.atomic import save_csv
from meaningmaps.maps.patch_grid import PatchGrid, ScaleSpec
from meaningmaps.model.labels import labels_from_grey_map, labels_from_map, labels_from_ratings
from meaningmaps.model.qa_jsonl import scene_records, write_jsonl
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    if sm.params.from_ratings:  # per-patch ratings; else a map, by the paper's map-intensity rule
        labels = labels_from_ratings(pd.read_csv(sm.input.source), sm.params.rule, path=sm.input.source)
    else:
        grid = PatchGrid(*sm.params.size, [ScaleSpec(**s) for s in sm.params.specs])
        make = labels_from_grey_map if sm.params.rule == "paper" else labels_from_map
        labels = make(np.load(sm.input.source), grid, path=sm.input.source)
    index = pd.read_csv(Path(sm.input.patches) / "index.csv")
    if len(index) != len(labels):
        raise RuntimeError(f"{len(labels)} labels for {len(index)} patches of {sm.wildcards.scene}")
    save_csv(sm.output.labels, labels)
    write_jsonl(sm.output.jsonl, scene_records(sm.wildcards.scene, labels))
    print(labels.groupby("category").size().to_string())
