"""The linear probe: ridge + GCV against direct formulas, and the frozen vision tower's pooled features."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from meaningmaps.model.probe import Ridge, fit_ridge, patch_features, predict_ridge, vision_tower


def _standardise(X):
    return (X - X.mean(0)) / X.std(0)


def _data(seed=0, n=80, p=6, noise=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 4.0, p) + rng.normal(0, 3, p)
    w = rng.normal(size=p)
    lin = X @ w
    y = 3.5 + (lin - lin.mean()) / lin.std() * 0.6 + noise * rng.normal(size=n)  # stays inside 1..6
    return X, y, rng


def test_ridge_equals_the_normal_equations_at_a_fixed_alpha():
    X, y, _ = _data(noise=0.3)
    alpha = 7.0
    model = fit_ridge(X, y, alphas=(alpha,))
    Z = _standardise(X)
    direct = np.linalg.solve(Z.T @ Z + alpha * np.eye(X.shape[1]), Z.T @ (y - y.mean()))
    assert model.alpha == alpha
    np.testing.assert_allclose(model.coef, direct, rtol=1e-10, atol=1e-12)
    assert model.intercept == pytest.approx(y.mean())
    np.testing.assert_allclose(predict_ridge(model, X), np.clip(Z @ direct + y.mean(), 1, 6), rtol=1e-10)


def test_ridge_recovers_a_noiseless_linear_relation():
    X, y, rng = _data(seed=1)
    model = fit_ridge(X, y, alphas=(1e-9,))
    X_new = X[:10] + rng.normal(0, 0.1, size=(10, X.shape[1]))
    lin_fit = np.linalg.lstsq(np.c_[np.ones(len(X)), X], y, rcond=None)[0]  # ordinary least squares
    np.testing.assert_allclose(predict_ridge(model, X), y, atol=1e-6)
    np.testing.assert_allclose(predict_ridge(model, X_new), np.clip(np.c_[np.ones(10), X_new] @ lin_fit, 1, 6),
                               atol=1e-6)
    np.testing.assert_allclose(model.coef / X.std(0), lin_fit[1:], rtol=1e-6)


def test_gcv_scores_match_the_explicit_hat_matrix():
    X, y, _ = _data(seed=2, n=40, p=5, noise=0.5)
    alphas = (0.1, 1.0, 10.0, 100.0)
    model = fit_ridge(X, y, alphas=alphas)
    Z, n = _standardise(X), len(y)
    for a, score in zip(alphas, model.gcv):
        hat = Z @ np.linalg.solve(Z.T @ Z + a * np.eye(Z.shape[1]), Z.T) + np.ones((n, n)) / n  # with intercept
        resid = (np.eye(n) - hat) @ y
        assert score == pytest.approx(n * resid @ resid / np.trace(np.eye(n) - hat) ** 2, rel=1e-10)
    assert model.alpha == alphas[int(np.argmin(model.gcv))]


def test_gcv_picks_a_small_alpha_without_noise_and_a_large_one_for_pure_noise():
    alphas = (0.1, 1, 10, 100, 1000)
    X, y, rng = _data(seed=3, n=100, p=20)
    assert fit_ridge(X, y, alphas).alpha == 0.1
    assert fit_ridge(X, rng.normal(size=100), alphas).alpha >= 100
    assert fit_ridge(X, y, alphas[::-1]).alpha == 0.1  # the order of the list does not matter


def test_constant_feature_clipping_and_save_load(tmp_path):
    X, y, _ = _data(seed=4, noise=0.2)
    X[:, 2] = 5.0
    model = fit_ridge(X, y)
    assert np.isfinite(model.coef).all() and abs(model.coef[2]) < 1e-12 and model.scale[2] == 1.0
    far = X[:3] * 1e6
    assert set(np.round(predict_ridge(model, far), 12)) <= {1.0, 6.0}
    model.save(tmp_path / "ridge.npz")
    back = Ridge.load(tmp_path / "ridge.npz")
    assert back.alpha == model.alpha and back.intercept == model.intercept
    np.testing.assert_array_equal(predict_ridge(back, X), predict_ridge(model, X))
    np.testing.assert_array_equal(back.gcv, model.gcv)
    with pytest.raises(ValueError, match="features"):
        predict_ridge(model, X[:, :3])


# ---------------------------------------------------------------- vision features

@pytest.fixture(scope="module")
def tiny(tiny_llava_dir):
    from meaningmaps.model.loading import load_llava

    return load_llava(str(tiny_llava_dir), device="cpu", dtype="fp32")


def _images(n=5):
    rng = np.random.default_rng(0)
    sizes = [(40, 40), (30, 50), (64, 48), (20, 20), (56, 56)]
    return [Image.fromarray(rng.integers(0, 256, size=sizes[i % 5] + (3,), dtype=np.uint8)) for i in range(n)]


def test_patch_features_shape_pooling_and_determinism(tiny):
    model, processor = tiny
    images = _images()
    mean = patch_features(model, processor, images, batch_size=2, pooling="mean")
    d = model.config.vision_config.hidden_size
    assert mean.shape == (5, d) and mean.dtype == np.float32 and np.isfinite(mean).all()
    cls = patch_features(model, processor, images, pooling="cls")
    assert cls.shape == (5, d) and not np.allclose(cls, mean)
    np.testing.assert_array_equal(patch_features(model, processor, images, batch_size=2), mean)
    np.testing.assert_allclose(patch_features(model, processor, images, batch_size=32), mean, rtol=1e-5, atol=1e-6)
    assert not np.allclose(mean[0], mean[1])  # different images, different features
    assert patch_features(model, processor, [], pooling="mean").shape == (0, d)


def test_patch_features_read_the_layer_llava_projects(tiny):
    """Independent of the hidden_states bookkeeping: a hook on the encoder layer LLaVA uses (-2)."""
    model, processor = tiny
    tower = vision_tower(model)
    assert model.config.vision_feature_layer == -2
    seen = []
    hook = getattr(tower, "vision_model", tower).encoder.layers[-2].register_forward_hook(
        lambda mod, inp, out: seen.append((out[0] if isinstance(out, tuple) else out).detach().numpy().copy()))
    model.train()
    try:
        feats_mean = patch_features(model, processor, _images(3), pooling="mean")
        feats_cls = patch_features(model, processor, _images(3), pooling="cls")
    finally:
        hook.remove()
        was_training = tower.training
        model.eval()
    assert was_training  # the caller's mode is restored
    np.testing.assert_allclose(feats_mean, seen[0][:, 1:, :].mean(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(feats_cls, seen[1][:, 0, :], rtol=1e-5, atol=1e-6)
    last = tower(pixel_values=processor.image_processor(images=_images(3), return_tensors="pt")["pixel_values"])
    assert not np.allclose(feats_cls, last.last_hidden_state[:, 0, :].detach().numpy())  # not the last layer
