"""Rule release_model: the adapter of the model trained on every scene, its card with the
cross-validated scores (models/all/release, the folder to share)."""

from meaningmaps.model.card import read_card
from meaningmaps.model.release import release_model
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    summary = sm.input.summary[0] if sm.input.summary else None
    out = release_model(sm.input.adapter, sm.output[0], summary, scheme=sm.params.scheme)
    cv = read_card(out)["cross_validation"]
    print(f"released {out}; cross-validation: {cv if cv else 'none (no evaluation in this study)'}")
