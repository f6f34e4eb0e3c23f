"""Every shipped scenario validates and runs end to end (--quick) through the CLI."""

import csv
from pathlib import Path

import pytest

from linksim.cli import main

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_validates(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


# Where start-up dominates a --quick run, the test runs a smaller version of the scenario:
# mixed_environments traces (and compiles) one CDL model per mixture component, three times
# over (the link, the pooled and the genie receiver statistics): ~2 min on 2 cores with its
# 15 components, so the test keeps 2 (CDL-A and CDL-D at one delay spread), draws fewer
# statistics and runs the receivers the quickstart's quick run does not (the per-component
# genie LMMSE and the diffusion models of the mixture); pooled LMMSE and gmm run there.
# semcom and ddpm_images trace their diffusion samplers' 50-step trajectories (twice: one
# sample and the 8-sample mean) for every point: the test runs them with 5 steps.
# quickstart and narrowband_interferer fit their gmm on 1 000 draws (the pool the lmmse
# covariance already drew) instead of 4 000; uma_drops its pooled covariance and gmm on
# 1 000 (instead of 15 000 and 8 000).
SMALLER = {
    "mixed_environments": ["channel.mixture.delay_spread_ns=[100]", "channel.mixture.profile=[A, D]",
                           "receivers=[{name: perfect}, {name: ls}, "
                           "{name: lmmse, label: lmmse_genie, cov_samples: 200, genie_components: true}, "
                           "{name: nonidentical_dm, model: nonid-cdlmix-cpu}, {name: identical_dm, model: identical-cdlmix-cpu}]"],
    "semcom": ["semantic.systems.0.sample_steps=5", "semantic.systems.1.sample_steps=5"],
    "quickstart": ["receivers.3.fit_samples=1000"],
    "uma_drops": ["receivers.2.cov_samples=1000", "receivers.3.fit_samples=1000"],
    "narrowband_interferer": ["receivers.3.fit_samples=1000"],
    "ddpm_images": ["reconstruction.1.steps=5", "reconstruction.2.steps=5"],
}
# The narrowband scenarios of Card B need 10 000 training channels of 64 x 16 per profile
# (minutes to draw) and their diffusion receivers the shipped 64 x 16 models: the test runs
# the chain with 16 x 2 arrays, two profiles and the receivers that fit on the fly
# (tests/integration/test_narrowband_diffusion.py runs dm_pooled and dm_vb on small models).
NARROWBAND_SMALL = ["narrowband.num_tx=16", "narrowband.num_rx=2", "narrowband.streams=2", "narrowband.profiles=[A, D]",
                    "narrowband.test_profile=D", "narrowband.training_samples={A: 1000, D: 1000}",
                    "receivers=[{name: perfect}, {name: ls}, {name: lasso, iterations: 50}, {name: omp}, {name: lmmse_pooled}, {name: lmmse_genie}, "
                    "{name: gmm, components: 2, iterations: 5}]"]
SMALLER.update({p.stem: NARROWBAND_SMALL for p in SCENARIOS if p.stem.startswith("moe_vb")})
# Card C's Wiener predictor fits its covariances on 20 000 drawn channels (about a minute
# to draw on 2 cores): the test fits it on 1 000.
SMALLER.update({f"srs_precoding_{m}": ["srs_precoding.training_samples=1000"] for m in ("minimal", "low", "high")})


# The test suite's budget (15 min on 2 cores) keeps one --quick run per chain: a scenario
# whose chain another one already runs here (same link family and receivers, other
# settings), or whose part a test of its own runs (the interferer: test_interference.py;
# SRS sounding, every Card C receiver, the semantic systems and the image reconstruction
# stages: `linksim run` in test_resume_families.py; each shipped Card C model on fresh
# realisations: test_srs_dm_condition.py; the SVD precoder: test_chain_options.py;
# the quickstart: its link under XLA with LS, LMMSE and the non-identical DM in the API
# walkthrough (test_api_walkthrough.py), `linksim run` on it in test_resume_families.py,
# gmm in the OFDM chain in test_link_claims.py, identical_dm in mixed_environments' quick
# run here; umi_drops: uma_drops' chain with the UMi model), runs with -m slow.
SAME_CHAIN_ELSEWHERE = {"quickstart", "srs_precoding_minimal", "srs_precoding_low", "srs_precoding_high", "srs_precoding_cfg", "moe_vb_balanced",
                        "moe_vb_scarce_D", "narrowband_interferer", "srs_sounding", "uma_downlink_svd",
                        "semcom", "ddpm_images", "umi_drops"}


def _quick_params():
    return [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SAME_CHAIN_ELSEWHERE else [])
            for p in SCENARIOS]


def test_every_slow_quick_run_names_a_shipped_scenario():
    assert SAME_CHAIN_ELSEWHERE <= {p.stem for p in SCENARIOS}


@pytest.mark.parametrize("path", _quick_params())
def test_scenario_runs_quick(path, tmp_path, capsys):
    out = tmp_path / "run"
    sets = [a for o in SMALLER.get(path.stem, []) for a in ("--set", o)]
    assert main(["run", str(path), "--quick", "--no-progress", "--set", f"output={out}", *sets]) == 0
    run = Path(str(out) + "-quick")
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    from linksim.scenario import load_scenario

    scenario = load_scenario(path, SMALLER.get(path.stem, []))
    n_points = min(2, len(scenario.sweep.values))
    assert len(rows) == n_points * len(scenario.row_labels)
    assert (run / "scenario.yaml").is_file() and (run / "meta.json").is_file()
    assert list((run / "figures").glob("*.png"))
    printed = capsys.readouterr().out
    assert "receiver" in printed and "results:" in printed
