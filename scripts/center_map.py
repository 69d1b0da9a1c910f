"""Rule center_map: the centre-bias baseline map of one scene's size."""

import numpy as np

from meaningmaps.atomic import save_npy
from meaningmaps.maps.center_bias import center_bias_map
from meaningmaps.maps.preview import save_map_preview
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    m = center_bias_map(*sm.params.size, sm.params.sigma_fraction)
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
