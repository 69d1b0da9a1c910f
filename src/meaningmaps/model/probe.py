"""A linear-probe baseline, in the spirit of DeepMeaning (Hayes & Henderson): ridge regression
from the FROZEN LLaVA vision tower's pooled patch features to the human mean ratings.

It tells how much of the meaning ratings a linear read-out of the image features already gives,
without any language model or fine-tuning; it is trained and evaluated on the same scene folds.

* :func:`patch_features`: the vision tower's hidden states at ``config.vision_feature_layer``
  (-2 for LLaVA-1.5: the layer LLaVA feeds its projector), pooled per image: the mean over the
  patch tokens (CLS excluded) or the CLS token.
* :func:`fit_ridge`: features standardised by the training mean and standard deviation, ridge
  penalty chosen by generalised cross-validation (Golub, Heath & Wahba 1979) in closed form from
  one SVD; :func:`predict_ridge` clips predictions to the rating scale [1, 6].
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_path
from ..errors import InputError
from .trained_models import same_base

POOLINGS = ("mean", "cls")


def vision_tower(model):
    """The vision encoder of a LLaVA model (transformers 5: ``model.model.vision_tower``), PEFT-wrapped or not."""
    if hasattr(model, "get_base_model"):
        model = model.get_base_model()
    for owner in (getattr(model, "model", None), model):
        tower = getattr(owner, "vision_tower", None)
        if tower is not None:
            return tower
    raise AttributeError(f"{type(model).__name__} has no vision_tower (expected a LlavaForConditionalGeneration)")


def patch_features(model, processor, images, batch_size: int = 32, pooling: str = "mean") -> np.ndarray:
    """Pooled features [n_images, d] (float32) of the frozen vision tower, in eval mode, no gradients.

    ``d`` is the vision hidden size (times the number of layers if ``vision_feature_layer`` is a
    list, whose hidden states are concatenated as LLaVA does). Images are preprocessed by
    ``processor.image_processor`` exactly as for the model (resize, crop, normalise).
    """
    import torch

    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    tower = vision_tower(model)
    layers = model.config.vision_feature_layer
    layers = list(layers) if isinstance(layers, (list, tuple)) else [layers]
    param = next(tower.parameters())
    was_training = tower.training
    tower.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                batch = [im.convert("RGB") for im in images[start:start + batch_size]]
                pixels = processor.image_processor(images=batch, return_tensors="pt")["pixel_values"]
                pixels = pixels.to(device=param.device, dtype=param.dtype)
                hidden = tower(pixels, output_hidden_states=True).hidden_states
                h = torch.cat([hidden[i] for i in layers], dim=-1).float()
                out.append((h[:, 1:, :].mean(dim=1) if pooling == "mean" else h[:, 0, :]).cpu().numpy())
    finally:
        tower.train(was_training)
    if not out:
        return np.zeros((0, model.config.vision_config.hidden_size * len(layers)), dtype=np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)


@dataclass
class Ridge:
    """A fitted ridge probe. ``coef`` acts on standardised features ``(X - mean) / scale``."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    alpha: float
    alphas: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gcv: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: what its features were made with (base_model, base_digest, pooling), so a saved probe is only
    #: used on the same features (``model.probe_model``)
    settings: dict = field(default_factory=dict)

    def save(self, path) -> None:
        """Atomic ``.npz`` (numbers, and the settings as JSON text; load with :meth:`load`)."""
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, mean=self.mean, scale=self.scale, coef=self.coef, intercept=self.intercept,
                     alpha=self.alpha, alphas=self.alphas, gcv=self.gcv,
                     settings=np.array(json.dumps(self.settings, sort_keys=True)))

    @classmethod
    def load(cls, path) -> Ridge:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                settings = json.loads(str(z["settings"])) if "settings" in z.files else {}
                return cls(z["mean"], z["scale"], z["coef"], float(z["intercept"]), float(z["alpha"]),
                           z["alphas"], z["gcv"], settings)
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(path, f"is not a saved probe ({exc}).",
                             "point at a probe/<fold>/ridge.npz the workflow wrote (rule probe_fit).") from exc


def check_probe(path, base: str, pooling: str, *, key: str = "model.probe_model") -> Ridge:
    """A saved probe (``key``) after checking it was fitted on features of this base model with this
    pooling (a probe on other features rates nonsense, silently)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"({key}) does not exist.", "point at a probe/<fold>/ridge.npz the workflow wrote.")
    ridge = Ridge.load(path)
    s = ridge.settings
    if not s:
        raise InputError(path, f"({key}) records no feature settings (base model, pooling).",
                         "fit it again with this version (rule probe_fit writes them).")
    if s.get("pooling") != pooling:
        raise InputError(path, f"the probe was fitted on {s.get('pooling')!r}-pooled features, but "
                         f"model.probe.pooling is {pooling!r}.",
                         f"set model.probe.pooling to {s.get('pooling')!r}, or fit a probe with {pooling!r}.")
    if not same_base(s, base):
        raise InputError(path, f"the probe was fitted on features of {s.get('base_model')!r}, but model.base is "
                         f"{str(base)!r}.", f"set model.base to {s.get('base_model')!r} (or a local copy of it).")
    return ridge


def _check_xy(X, y=None):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.isfinite(X).all():
        raise ValueError(f"X must be a finite 2-D array, got shape {X.shape}")
    if y is None:
        return X
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (X.shape[0],) or not np.isfinite(y).all():
        raise ValueError(f"y must be finite with shape ({X.shape[0]},), got {y.shape}")
    if X.shape[0] < 3:
        raise ValueError(f"need at least 3 training rows, got {X.shape[0]}")
    return X, y


def fit_ridge(X, y, alphas=(0.1, 1, 10, 100, 1000)) -> Ridge:
    """Ridge regression of ``y`` on standardised ``X`` with the penalty chosen by GCV.

    ``Z = (X - mean) / scale`` (training mean, population std; a constant column gets Z = 0),
    ``y`` centred (the intercept is ``y.mean()`` and is not penalised). For each alpha, with
    ``Z = U S V'``: ``coef = V diag(s / (s^2 + alpha)) U' yc``, fitted ``A yc`` with
    ``A = U diag(s^2 / (s^2 + alpha)) U'``, and
    ``GCV(alpha) = n * ||yc - A yc||^2 / (n - tr(A) - 1)^2`` (the -1 counts the intercept).
    The alpha with the smallest GCV wins (the first listed on a tie).
    """
    X, y = _check_xy(X, y)
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    if alphas.size == 0 or not (np.isfinite(alphas) & (alphas > 0)).all():
        raise ValueError(f"alphas must be positive numbers, got {alphas}")
    n = X.shape[0]
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    const = np.ptp(X, axis=0) == 0
    mean[const], scale[const] = X[0, const], 1.0  # a constant column standardises to exactly 0
    Z = (X - mean) / scale
    intercept = float(y.mean())
    yc = y - intercept
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    uty = U.T @ yc
    s2 = s ** 2
    scores = np.empty(alphas.size)
    for i, a in enumerate(alphas):
        shrink = s2 / (s2 + a)
        resid = yc - U @ (shrink * uty)
        dof = n - shrink.sum() - 1.0
        scores[i] = n * (resid @ resid) / dof ** 2 if dof > 0 else np.inf
    best = int(np.argmin(scores))
    alpha = float(alphas[best])
    coef = Vt.T @ (s / (s2 + alpha) * uty)
    return Ridge(mean=mean, scale=scale, coef=coef, intercept=intercept, alpha=alpha, alphas=alphas, gcv=scores)


def predict_ridge(model: Ridge, X) -> np.ndarray:
    """Predicted ratings, clipped to the six-point scale [1, 6]."""
    X = _check_xy(X)
    if X.shape[1] != model.coef.size:
        raise ValueError(f"X has {X.shape[1]} features, the probe was fitted on {model.coef.size}")
    return np.clip((X - model.mean) / model.scale @ model.coef + model.intercept, 1.0, 6.0)


def probe_training_set(feature_files, label_files) -> tuple[np.ndarray, np.ndarray]:
    """Stack scenes' features (``.npz`` of scale, k, features) with their targets, patch by patch.

    The target is the patch's mean human rating; for a study whose labels come from a map (no
    raters: ``n_ratings`` 0) it is the six-bin label, so the probe predicts on the 1..6 scale too.
    """
    xs, ys = [], []
    for feat_path, label_path in zip(feature_files, label_files, strict=True):
        data = np.load(feat_path)
        keys = pd.DataFrame({"scale": data["scale"].astype(str), "k": data["k"].astype(int)})
        labels = pd.read_csv(label_path)
        merged = keys.merge(labels, on=["scale", "k"], how="left", validate="one_to_one")
        if merged["label"].isna().any():
            raise InputError(label_path, f"has no label for {int(merged['label'].isna().sum())} patch(es) of "
                             f"{feat_path}.", "rerun rule qa_scene for this scene.")
        target = np.where(merged["n_ratings"] > 0, merged["mean_rating"], merged["label"]).astype(float)
        xs.append(np.asarray(data["features"], dtype=np.float64))
        ys.append(target)
    return np.concatenate(xs), np.concatenate(ys)
