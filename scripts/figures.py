"""Rule figures: the comparison figure (per-scene r of each source), the summary figure (mean r
and R^2 with CIs, noise ceiling, reference line, the semipartial pairs) and the scene gallery."""

import numpy as np
import pandas as pd

from meaningmaps.evaluation.figures import comparison_figure, gallery_figure, pick_gallery_scenes, summary_figure
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    scores = pd.read_csv(sm.input.scores, dtype={"scene": str, "source": str})
    ref = sm.params.reference
    print(f"reference source: {ref}")
    comparison_figure(scores, sm.output.png, sm.output.pdf, reference_source=ref)
    summary_figure(pd.read_csv(sm.input.summary, dtype={"source": str}), sm.output.summary_png,
                   sm.output.summary_pdf, reference_source=ref, semipartial=sm.params.semipartial)
    scenes, sources = list(sm.params.scenes), list(sm.params.sources)
    attention = dict(zip(scenes, sm.input.attention, strict=True))
    maps = {(src, sc): sm.input.maps[j * len(scenes) + i]  # expand(): sources outer, scenes inner
            for j, src in enumerate(sources) for i, sc in enumerate(scenes)}
    r = scores.set_index(["scene", "source"])["pearson_r"]
    rows = [
        dict(scene=scene, image=sm.params.images.get(scene), attention=np.load(attention[scene]),
             maps={src: np.load(maps[src, scene]) for src in sources},
             r={src: float(r.get((scene, src), np.nan)) for src in sources})
        for scene in pick_gallery_scenes(scores, sm.params.n_gallery, reference_source=ref)
    ]
    gallery_figure(rows, sm.output.gallery, max_rows=sm.params.n_gallery)
