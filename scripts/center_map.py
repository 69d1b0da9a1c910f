"""Rule center_map: the centre-bias baseline map of one scene's size."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import numpy as np  # noqa: E402

from meaningmaps.atomic import save_npy  # noqa: E402
from meaningmaps.figures import save_map_preview  # noqa: E402
from meaningmaps.map_sources import center_map  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    m = center_map(tuple(sm.params.size), sm.params.sigma_fraction)
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
