"""Rule qa_scene: per-patch labels and one scene's question-answer rows (LLaVA JSONL)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from meaningmaps.atomic import save_csv  # noqa: E402
from meaningmaps.labels import labels_from_map, labels_from_ratings  # noqa: E402
from meaningmaps.patch_grid import PatchGrid, ScaleSpec  # noqa: E402
from meaningmaps.qa_jsonl import scene_records, write_jsonl  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    if sm.params.from_ratings:  # per-patch ratings; else a map, by the paper's map-intensity rule
        labels = labels_from_ratings(pd.read_csv(sm.input.source), sm.params.rule, path=sm.input.source)
    else:
        grid = PatchGrid(*sm.params.size, [ScaleSpec(**s) for s in sm.params.specs])
        labels = labels_from_map(np.load(sm.input.source), grid, path=sm.input.source)
    index = pd.read_csv(Path(sm.input.patches) / "index.csv")
    if len(index) != len(labels):
        raise RuntimeError(f"{len(labels)} labels for {len(index)} patches of {sm.wildcards.scene}")
    save_csv(sm.output.labels, labels)
    write_jsonl(sm.output.jsonl, scene_records(sm.wildcards.scene, labels))
    print(labels.groupby("category").size().to_string())
