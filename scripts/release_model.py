"""Rule release_model: the adapter of the model trained on every scene, its card with the
cross-validated scores (models/all/release, the folder to share)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.model_card import read_card  # noqa: E402
from meaningmaps.model_release import release_model  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    summary = sm.input.summary[0] if sm.input.summary else None
    out = release_model(sm.input.adapter, sm.output[0], summary, scheme=sm.params.scheme)
    cv = read_card(out)["cross_validation"]
    print(f"released {out}; cross-validation: {cv if cv else 'none (no evaluation in this study)'}")
