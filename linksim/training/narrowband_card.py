"""The model card of a Card B narrowband prior (:mod:`linksim.training.narrowband`) and its
noise-prediction table (``eps_mse.csv``)."""

from __future__ import annotations

import numpy as np

from . import loop

__all__ = ["CARD_STEPS", "eps_csv", "eps_rows", "model_card"]

#: Steps of the noise-prediction table in the card (the whole curve is in eps_mse.csv).
CARD_STEPS = (1, 2, 5, 10, 20, 50, 100)


def eps_csv(table: dict) -> str:
    """The whole noise-prediction curves: ``profile,t,model,gaussian`` rows."""
    lines = ["profile,t,model,gaussian"]
    for p, c in table.items():
        lines += [f"{p},{t},{m},{g}" for t, m, g in zip(c["t"], c["model"], c["gaussian"])]
    return "\n".join(lines) + "\n"


def eps_rows(table: dict) -> str:
    """Markdown rows of the noise-prediction table: per profile, the mean over all steps and
    the error at :data:`CARD_STEPS` (model / Gaussian optimum)."""
    rows = []
    for p, c in table.items():
        idx = {t: i for i, t in enumerate(c["t"])}
        cells = [f"{np.mean(c['model']):.4f} / {np.mean(c['gaussian']):.4f}"]
        cells += [f"{c['model'][idx[t]]:.4f} / {c['gaussian'][idx[t]]:.4f}" for t in CARD_STEPS if t in idx]
        rows.append(f"| CDL-{p} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def model_card(info: dict) -> str:
    sp = info["spec"]
    ev = sp["evaluation"]
    rows = "\n".join(f"| {k} | {v.get('gp', 'n/a')} | {v['dm']} | {v['lmmse']} |" for k, v in info["measured"].items())
    data = ", ".join(f"CDL-{p}: {n}" for p, n in sp["data"]["profiles"].items())
    ch = sp["channel"]
    net = sp["network"]
    chosen = " chosen on the held-out channels"
    shrink = info.get("shrinkage", net.get("shrinkage", 0.0))
    backbone = (f"; Gaussian backbone (the fit of the {info['samples']} fitting channels, "
                f"energy tolerance {info.get('energy_tol', net['energy_tol']):g}"
                f"{chosen if net['energy_tol'] is None else ''}"
                + (f", shrunk towards the scaled identity by {shrink:g}{chosen if net.get('shrinkage', 0.0) is None else ''}"
                   if shrink or net.get("shrinkage", 0.0) is None else "")
                + ") plus the network's residual" if net.get("backbone") == "gaussian" else "")
    held = (f"; {info['held_out']} more held out to gate the residual per step" if info.get("held_out") else "")
    eps = info.get("eps_mse")
    eps_text = ""
    if eps:
        steps = [t for t in CARD_STEPS if t <= sp["diffusion"]["T"]]
        eps_text = """
Noise-prediction error (mean squared error per real entry; model / exact Gaussian denoiser
of the same training channels, the bound) on 256 fresh channels per profile: the mean over
all T steps and at single steps t (the whole curve: `eps_mse.csv`).

| profile | mean over t | """ + " | ".join(f"t = {t}" for t in steps) + """ |
|---|---|""" + "---|" * len(steps) + "\n" + eps_rows(eps) + "\n"
    return f"""# {info['name']}

Narrowband diffusion prior (Card B) trained by `linksim train {info['source']}`.

| | |
|---|---|
| model | DDPM, eps-prediction, linear beta {sp['diffusion']['beta_start']}..{sp['diffusion']['beta_end']}, T = {sp['diffusion']['T']} |
| network | Card B's FiLM CNN (`FiLMDenoiserNet`), profile `{net['profile']}`, {info['parameters']} parameters{backbone} |
| data | {info['samples']} channels ({data}; seed {sp['data']['seed']}){held}, {ch['num_rx']} x {ch['num_tx']} ULAs, {ch['carrier_frequency_ghz']} GHz, {ch['delay_spread_ns']} ns, {ch['doppler_hz']} Hz, first subcarrier ({info['data_s']} s to draw or load) |
| training | {sp['training']['steps']} steps, batch {sp['training']['batch_size']}, Adam lr {sp['training']['learning_rate']} (cosine), final loss {info['final_loss']} |
| time | {info['wall_s']} s wall on this machine (data included), evaluation {info['eval_s']} s |
{loop.revision_row(info)}
{eps_text}
NMSE [dB] on {ev['num_channels']} fresh channels per row, pilot density {ev['pilot_density']}
(QPSK pilots): the receivers' sampler (Gaussian-posterior data consistency with the
backbone's covariance, its conditional-mean chain), Card B's sampler as published (uninformative-prior likelihood,
zeta = 1, all T steps), and LMMSE with the sample covariance of the same training channels.

| profile, SNR | default sampler | Card B's sampler | LMMSE (sample covariance) |
|---|---|---|---|
{rows}
"""
