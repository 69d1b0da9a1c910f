"""Rule import_map: a map made elsewhere, transformed/resized as its dataset.maps entry says, checked and
stored as float32 .npy."""

import numpy as np

from meaningmaps.atomic import save_npy
from meaningmaps.data.external_maps import imported_map
from meaningmaps.maps.preview import save_map_preview
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    m = imported_map(sm.input.map, tuple(sm.params.size), source=sm.wildcards.source,
                     transform=sm.params.transform, resize=sm.params.resize, variable=sm.params.variable)
    print(f"{sm.wildcards.source}/{sm.wildcards.scene}: transform {sm.params.transform or 'none (unset)'}, "
          f"{m.shape[1]}x{m.shape[0]} (WxH), values {m.min():.4g}..{m.max():.4g}")
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
