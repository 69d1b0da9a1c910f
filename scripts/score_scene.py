"""Rule score_scene: every map source of one scene against its attention map."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import numpy as np  # noqa: E402

from meaningmaps.atomic import save_csv  # noqa: E402
from meaningmaps.evaluation import score_scene  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    attention = np.load(sm.input.attention).astype(np.float64)
    maps = {s: np.load(p).astype(np.float64) for s, p in zip(sm.params.sources, sm.input.maps, strict=True)}
    scores = score_scene(sm.wildcards.scene, attention, maps, [tuple(p) for p in sm.params.semipartial])
    save_csv(sm.output[0], scores)
    print(scores.to_string(index=False))
