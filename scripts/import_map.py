"""Rule import_map: a map made elsewhere, transformed/resized as its dataset.maps entry says, checked and
stored as float32 .npy."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import numpy as np  # noqa: E402

from meaningmaps.atomic import save_npy  # noqa: E402
from meaningmaps.figures import save_map_preview  # noqa: E402
from meaningmaps.map_sources import imported_map  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    m = imported_map(sm.input.map, tuple(sm.params.size), source=sm.wildcards.source,
                     transform=sm.params.transform, resize=sm.params.resize, variable=sm.params.variable)
    print(f"{sm.wildcards.source}/{sm.wildcards.scene}: transform {sm.params.transform or 'none (unset)'}, "
          f"{m.shape[1]}x{m.shape[0]} (WxH), values {m.min():.4g}..{m.max():.4g}")
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
