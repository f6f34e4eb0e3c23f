"""Every shipped narrowband diffusion model (Card B experts and pooled models) is fit to
be compared: on fresh channels of its data at 10 dB it beats the all-zero estimate and
regularised LS by 1 dB (an expert on its profile; a pooled model on its profiles together,
the mixture it was trained for, and on each profile the all-zero estimate), its NMSE with
the receivers' sampler is within 0.5 dB of LMMSE with its Gaussian fit on each profile, and
its noise prediction is at most 2 % above the exact Gaussian denoiser of that fit (averaged
over t, and at t = 1 and t = T); its committed card curve is at or below the Gaussian
optimum of its training set.

A pooled model at its Gaussian bound can still lose to LS on a profile its pooled fit
describes badly (the scarce profile of a data-scarce pooled set): that is the standard
DM's weakness DM-VB addresses (docs/methods/moe_vb.md), not a defect of the model."""

import csv
import json

import numpy as np
import pytest
import tensorflow as tf

from linksim.diffusion.checkpoints import ZOO
from linksim.narrowband.channels import NarrowbandCDL
from linksim.narrowband.eps_mse import eps_mse_curve
from linksim.narrowband.linear_gaussian import GaussianMixtureLinear
from linksim.narrowband.network_prior import NetworkPrior
from linksim.narrowband.pilots import PilotOperator, qpsk_pilots
from linksim.narrowband.receivers.diffusion_common import DiffusionParams, make_sampler

SHIPPED = sorted(p.name for p in ZOO.glob("nbdm-*-cpu"))
#: Known misses of the guard (reported in docs/methods/moe_vb.md): strict, so a fix shows.
GUARD_MISSES: dict[str, str] = {}
#: Shipped models not yet retrained on a Gaussian backbone (strict: retraining shows).
NOT_RETRAINED: dict[str, str] = {}


#: The fresh-data guard in the default suite: one expert, one data-scarce expert and one
#: pooled model (about 30 s each on 2 cores); every other shipped model runs with -m slow.
GUARD_IN_CI = {"nbdm-cdlC-10k-cpu", "nbdm-cdlD-1k-cpu", "nbdm-pooled-balanced-cpu"}


def _marked(names, misses, ci=None):
    out = []
    for n in names:
        marks = [pytest.mark.xfail(reason=misses[n], strict=True)] if n in misses else []
        if ci is not None and n not in ci:
            marks.append(pytest.mark.slow)
        out.append(pytest.param(n, marks=marks, id=n))
    return out


SNR_DB, DENSITY, CHANNELS = 10.0, 0.5, 16


def _nmse_db(h_hat, h):
    return float(10 * np.log10(_sq(h_hat - h) / _sq(h)))


def _sq(x):
    return float(np.sum(np.abs(x) ** 2))


def test_the_guard_subset_names_shipped_models():
    assert GUARD_IN_CI <= set(SHIPPED)


def test_the_zoo_holds_every_card_b_model():
    assert {"nbdm-cdlA-10k-cpu", "nbdm-cdlB-10k-cpu", "nbdm-cdlC-10k-cpu", "nbdm-cdlD-10k-cpu", "nbdm-cdlB-1k-cpu",
            "nbdm-cdlD-1k-cpu", "nbdm-pooled-balanced-cpu", "nbdm-pooled-scarceB-cpu",
            "nbdm-pooled-scarceD-cpu"} <= set(SHIPPED)


@pytest.mark.parametrize("name", _marked(SHIPPED, {**GUARD_MISSES, **NOT_RETRAINED}, GUARD_IN_CI))
def test_shipped_model_beats_trivial_estimates_and_is_at_its_gaussian_bound(name):
    prior = NetworkPrior(name)
    assert prior.backbone is not None, f"{name} has no Gaussian backbone"
    cfg = prior.config
    ch = cfg["channel"]
    nr, nt = ch["num_rx"], ch["num_tx"]
    model = NarrowbandCDL(**ch)
    cov = prior.backbone.covariance()
    rng = tf.random.Generator.from_seed(5)
    op = PilotOperator(qpsk_pilots(nt, int(DENSITY * nt), rng, tf.complex64))
    nv = 10.0 ** (-SNR_DB / 10.0)
    sampler = make_sampler(DiffusionParams(), lambda: [cov], nr, prior.alpha_bar)
    lmmse = GaussianMixtureLinear(cov[None], [1.0], op.x.numpy(), nv, nr)
    x = op.x.numpy()
    rls = np.linalg.solve(x @ x.conj().T + nv * np.eye(nt), x)             # Y X^H (X X^H + nv I)^-1
    T = prior.T
    fit = prior.backbone
    gauss = lambda h_t, t: fit.eps(h_t, np.sqrt(prior.alpha_bar[t]), np.sqrt(1 - prior.alpha_bar[t]))  # noqa: E731
    errors = np.zeros(3)                                                   # DM, LS, channel energy
    for p in cfg["profiles"]:
        h = model.draw_many(p, CHANNELS, seed=90210)                       # never a training seed
        y = op.observe(tf.constant(h), nv, rng)
        h_dm = sampler(prior.eps, y, op, nv, seed=3)[0].numpy()
        h_ls = y.numpy() @ rls.conj().T
        dm, ls, lm = _nmse_db(h_dm, h), _nmse_db(h_ls, h), _nmse_db(lmmse(y)[0].numpy(), h)
        errors += [_sq(h_dm - h), _sq(h_ls - h), _sq(h)]
        assert dm < -1.0, (name, p, dm)
        assert dm <= lm + 0.5, (name, p, dm, lm)
        curve = eps_mse_curve({"model": prior.eps, "gaussian": gauss}, h, prior.alpha_bar, [1, T // 2, T], seed=2,
                              draws=1)
        m, g = np.asarray(curve["model"]), np.asarray(curve["gaussian"])
        assert np.all(m <= 1.02 * g) and m.mean() <= 1.02 * g.mean(), (name, p, m, g)
    dm, ls = 10 * np.log10(errors[:2] / errors[2])
    assert dm < ls - 1.0, (name, cfg["profiles"], dm, ls)


@pytest.mark.parametrize("name", _marked(SHIPPED, NOT_RETRAINED))
def test_committed_card_curve_is_at_or_below_the_gaussian_optimum(name):
    """Averaged over t, at t = 1 and at t = T. An expert: on its profile. A pooled model
    (its residual is gated on the pooled held-out set): on the pooled mixture (the
    profiles' mean), and within 0.5 % of the optimum on each profile."""
    rows = list(csv.DictReader((ZOO / name / "eps_mse.csv").read_text().splitlines()))
    cfg = json.loads((ZOO / name / "config.json").read_text())
    assert {r["profile"] for r in rows} == set(cfg["profiles"])
    tol = 1e-4                                                             # the card's rounding (6 digits)
    curves = []
    for p in cfg["profiles"]:
        mine = [r for r in rows if r["profile"] == p]
        t = np.array([int(r["t"]) for r in mine])
        assert len(t) == cfg["schedule"]["T"] and t[0] == 1
        curves.append(np.array([[float(r["model"]), float(r["gaussian"])] for r in mine]))
    per_profile = np.stack(curves)                                         # [P, T, (model, gaussian)]
    for c in per_profile:
        assert c[:, 0].mean() <= 1.005 * c[:, 1].mean() + tol and c[0, 0] <= 1.005 * c[0, 1] + tol, name
    m, g = per_profile.mean(0).T                                           # the pooled mixture
    assert m.mean() <= g.mean() + tol and m[0] <= g[0] + tol and m[-1] <= g[-1] + tol, (name, m.mean(), g.mean())


def test_sampler_steps_are_traced_once_for_every_batch_size_and_step():
    """The network's graph serves every step and batch size after at most two traces (the
    first shape, then one with a free batch dimension): a receiver's single-channel and
    batched calls run the same compiled graph."""
    prior = NetworkPrior("nbdm-cdlB-10k-cpu")                             # its residual network is evaluated
    assert prior.use_network
    nr, nt = prior.config["channel"]["num_rx"], prior.config["channel"]["num_tx"]
    rng = tf.random.Generator.from_seed(1)
    for b in (16, 1, 7, 16, 3):
        for t in (1, prior.T // 2, prior.T):
            h = tf.complex(rng.normal([b, nr, nt]), rng.normal([b, nr, nt]))
            prior.eps(h, t)
    assert 1 <= prior._call._fn.experimental_get_tracing_count() <= 2
