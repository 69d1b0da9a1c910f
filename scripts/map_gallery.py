"""Rule map_gallery: scene image | each source's map, for a study without fixations."""

import numpy as np

from meaningmaps.evaluation.figures import gallery_figure
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    scenes, sources = list(sm.params.scenes), list(sm.params.sources)
    maps = {(src, sc): sm.input.maps[j * len(scenes) + i]  # expand(): sources outer, scenes inner
            for j, src in enumerate(sources) for i, sc in enumerate(scenes)}
    rows = [dict(scene=scene, image=sm.params.images.get(scene), attention=None,
                 maps={src: np.load(maps[src, scene]) for src in sources}) for scene in scenes]
    gallery_figure(rows, sm.output.gallery, max_rows=len(rows))
    print(f"gallery of {len(rows)} scene(s): image | {' | '.join(sources)}")
