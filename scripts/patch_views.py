"""Rule patch_views: every patch of one scene composited on the configured background."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.qa_jsonl import write_scene_views  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    index = write_scene_views(sm.input.patches, sm.output[0], sm.params.background)
    print(f"{len(index)} patch views on {sm.params.background}")
