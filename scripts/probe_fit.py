"""Rule probe_fit: ridge regression from patch features to human ratings on one fold's scenes."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.probe import fit_ridge, probe_training_set  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402
from meaningmaps.trained_models import base_fingerprint  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    X, y = probe_training_set(list(sm.params.feature_files), list(sm.input.labels))
    ridge = fit_ridge(X, y, alphas=tuple(sm.params.settings["alphas"]))
    # What the features were made with: a saved probe is only used on the same (model.probe_model).
    ridge.settings = {"base_model": str(sm.params.model), "base_digest": base_fingerprint(sm.params.model),
                      "pooling": sm.params.settings["pooling"], "features": int(X.shape[1]),
                      "fold": sm.wildcards.fold, "scenes": len(sm.input.labels)}
    ridge.save(sm.output[0])
    print(f"{sm.wildcards.fold}: {X.shape[0]} patches, {X.shape[1]} features, alpha {ridge.alpha:g}")
