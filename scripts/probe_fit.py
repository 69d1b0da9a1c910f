"""Rule probe_fit: ridge regression from patch features to human ratings on one fold's scenes."""

from meaningmaps.model.probe import fit_ridge, probe_training_set
from meaningmaps.model.trained_models import base_fingerprint
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    X, y = probe_training_set(list(sm.params.feature_files), list(sm.input.labels))
    ridge = fit_ridge(X, y, alphas=tuple(sm.params.settings["alphas"]))
    # What the features were made with: a saved probe is only used on the same (model.probe_model).
    ridge.settings = {"base_model": str(sm.params.model), "base_digest": base_fingerprint(sm.params.model),
                      "pooling": sm.params.settings["pooling"], "features": int(X.shape[1]),
                      "fold": sm.wildcards.fold, "scenes": len(sm.input.labels)}
    ridge.save(sm.output[0])
    print(f"{sm.wildcards.fold}: {X.shape[0]} patches, {X.shape[1]} features, alpha {ridge.alpha:g}")
