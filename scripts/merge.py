"""Rule merge: the fold's adapter merged into a fresh base, saved as a standalone model."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.merge import merge_adapter  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    print(merge_adapter(sm.params.base, sm.input.adapter, sm.output[0], dtype=sm.params.dtype))
