"""Rule map_from_ratings: the toolkit's meaning map from one scene's per-patch ratings."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import numpy as np  # noqa: E402

from meaningmaps.atomic import save_npy  # noqa: E402
from meaningmaps.figures import save_map_preview  # noqa: E402
from meaningmaps.map_sources import map_from_ratings  # noqa: E402
from meaningmaps.patch_grid import ScaleSpec  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    specs = [ScaleSpec(**s) for s in sm.params.specs]
    m = map_from_ratings(sm.params.file, tuple(sm.params.size), specs, sm.params.sigma)
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
