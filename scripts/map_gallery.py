"""Rule map_gallery: scene image | each source's map, for a study without fixations."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import numpy as np  # noqa: E402

from meaningmaps.figures import gallery_figure  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    scenes, sources = list(sm.params.scenes), list(sm.params.sources)
    maps = {(src, sc): sm.input.maps[j * len(scenes) + i]  # expand(): sources outer, scenes inner
            for j, src in enumerate(sources) for i, sc in enumerate(scenes)}
    rows = [dict(scene=scene, image=sm.params.images.get(scene), attention=None,
                 maps={src: np.load(maps[src, scene]) for src in sources}) for scene in scenes]
    gallery_figure(rows, sm.output.gallery, max_rows=len(rows))
    print(f"gallery of {len(rows)} scene(s): image | {' | '.join(sources)}")
