"""imgaussfilt port: kernel size, normalisation, replicate padding, against a direct 2-D sum."""

import numpy as np

from meaningmaps.maps.smoothing import gaussian_kernel, imgaussfilt


def test_kernel_size_and_shape():
    k = gaussian_kernel(10)
    assert k.size == 41  # 2*ceil(2*sigma)+1
    assert abs(k.sum() - 1) < 1e-15 and k.argmax() == 20
    assert np.isclose(k[20 + 10] / k[20], np.exp(-0.5))
    assert gaussian_kernel(2.3).size == 2 * 5 + 1


def direct_imgaussfilt(a, sigma):
    """Independent: full 2-D kernel, edge-replicated padding, explicit weighted sums."""
    r = int(np.ceil(2 * sigma))
    x = np.arange(-r, r + 1)
    k2 = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))
    k2 /= k2.sum()
    p = np.pad(a, r, mode="edge")
    out = np.zeros_like(a, dtype=float)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = (p[i:i + 2 * r + 1, j:j + 2 * r + 1] * k2).sum()
    return out


def test_matches_direct_convolution_with_replicate_padding():
    rng = np.random.default_rng(1)
    a = rng.random((23, 31))
    a[0, :] = 5.0  # a bright edge makes the padding mode matter
    got = imgaussfilt(a, 3.0)
    assert np.abs(got - direct_imgaussfilt(a, 3.0)).max() < 1e-12
    # zero padding would darken the bright edge: the padding mode is really tested here
    from scipy.ndimage import gaussian_filter

    zero_pad = gaussian_filter(a, 3.0, mode="constant", truncate=2.0)
    assert np.abs(got - zero_pad)[0].max() > 0.5


def test_constant_image_unchanged_even_at_edges():
    a = np.full((30, 40), 3.25)
    assert np.allclose(imgaussfilt(a, 10), 3.25, atol=1e-13)
