"""Intrinsic dimension and the calibrated generator: the estimator recovers known dimensions, the generator
keeps real vectors' few local directions where a Gaussian fills them all."""

import numpy as np
import pytest

import labkit as lk


@pytest.mark.parametrize("d", [2, 5, 10])
def test_lid_mle_recovers_the_dimension_of_a_flat_cloud(d):
    rng = np.random.default_rng(d)
    x = rng.standard_normal((6000, d)) @ rng.standard_normal((d, 96))  # d directions in 96 dims
    assert lk.lid_mle(x, k=20, n_points=800) == pytest.approx(d, rel=0.15)


def test_lid_mle_is_high_for_isotropic_noise_and_needs_neighbours():
    x = np.random.default_rng(0).standard_normal((3000, 64))
    assert lk.lid_mle(x, k=20, n_points=500) > 25
    with pytest.raises(ValueError, match="k >= 3"):
        lk.lid_mle(x, k=2)
    with pytest.raises(ValueError, match="more than k=20"):
        lk.lid_mle(x[:10])


def test_knn_skips_each_query_itself_even_with_duplicates():
    base = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    d, ids = lk.lid.knn(base, base[:2], k=1, exclude_self=True)
    assert ids.tolist() == [[1], [0]] and d.ravel().tolist() == [0.0, 0.0]


def test_neighbour_profile_ratio():
    base = np.array([[0.0], [1.0], [3.0]], dtype=np.float32)
    prof = lk.lid.neighbour_profile(base, np.array([[0.0]], dtype=np.float32), k=2)
    assert prof == {"d1": 0.0, "d2": 1.0, "ratio": float("inf")}


def test_sample_local_is_seeded_unit_and_refuses_a_bad_scale():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((300, 16)).astype(np.float32)
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    gen = lk.fit_local(real, k=5)
    a, b = lk.sample_local(gen, 100, seed=3), lk.sample_local(gen, 100, seed=3)
    assert np.array_equal(a, b) and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert np.array_equal(lk.sample_local(gen, 100, seed=3, block=7), a)  # blocks do not change the draw
    with pytest.raises(ValueError, match="scale must be > 0"):
        lk.fit_local(real, scale=0.0)
    with pytest.raises(ValueError, match="spread must be >= 0"):
        lk.fit_local(real, spread=-0.5)


def test_spread_varies_how_far_new_vectors_stray_and_zero_changes_nothing():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((400, 16)).astype(np.float32)
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    gen = lk.fit_local(real, k=5)
    same = lk.sample_local(lk.fit_local(real, k=5, spread=0.0), 500, seed=4)
    assert np.array_equal(same, lk.sample_local(gen, 500, seed=4))  # spread 0 is the one-knob generator
    # distance of each new vector to its nearest real one: spread 1 makes near-copies and far strays
    near = lambda x: lk.lid.knn(real, x, 1)[0].ravel()  # (500,)
    d0, d1 = near(same), near(lk.sample_local(lk.fit_local(real, k=5, spread=1.0), 500, seed=4))
    assert np.quantile(d1, 0.1) < np.quantile(d0, 0.1) and np.quantile(d1, 0.9) > np.quantile(d0, 0.9)


def test_the_generator_keeps_real_vectors_local_dimension_where_a_gaussian_does_not():
    """On the shipped real MiniLM vectors: grow 1,500 real vectors to 6,000 two ways, compare with 6,000 real."""
    vecs, groups, _ = lk.shipped_vectors()
    real, groups = vecs[:6000], groups[:6000]
    seeds = real[:1500]
    lid_real = lk.lid_mle(real, n_points=1000)
    local = np.concatenate([seeds, lk.sample_local(lk.fit_local(seeds), 4500, seed=1)])  # the calibrated defaults
    g = lk.fit_gaussian(seeds, groups[:1500], per_doc=2.0)
    gauss = np.concatenate([seeds, lk.synthetic_vectors(g, 4500, seed=1)])
    lid_local, lid_gauss = lk.lid_mle(local, n_points=1000), lk.lid_mle(gauss, n_points=1000)
    assert abs(lid_local - lid_real) < abs(lid_gauss - lid_real)
    assert lid_local == pytest.approx(lid_real, rel=0.25)
