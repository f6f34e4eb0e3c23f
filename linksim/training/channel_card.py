"""The model card of a Card A channel denoiser (:mod:`linksim.training.channel`)."""

from __future__ import annotations

import json

from . import loop

__all__ = ["model_card"]


def model_card(info: dict, prior=None) -> str:
    sp = info["spec"]
    ev = info["evaluation"]
    m = info["measured"]
    snrs = list(m["model"]["nmse_db"])
    head = "| SNR [dB] | NMSE [dB] | err_var ratio |"
    rule = "|---|---|---|"
    if "backbone" in m:
        head += " backbone alone: NMSE [dB] | err_var ratio |"
        rule += "---|---|"
    rows = []
    for s in snrs:
        row = f"| {s} | {m['model']['nmse_db'][s]} | {m['model']['err_var_ratio'][s]} |"
        if "backbone" in m:
            row += f" {m['backbone']['nmse_db'][s]} | {m['backbone']['err_var_ratio'][s]} |"
        rows.append(row)
    if prior is not None:
        fit = prior.info
        backbone = (f"Gaussian mixture, {prior.num_components} component(s) on a rank-{prior.rank} subspace "
                    f"(energy outside {fit.get('energy_outside', 0):.1e}), EM on {fit.get('samples')} training "
                    f"channels, {fit.get('iterations')} iterations, {info['backbone_fit_s']} s")
    else:
        backbone = "none (the network alone)"
    kind = "identical" if ev["identical"] else "non-identical"
    start = f"one time per estimate by `{ev['tau_rule']}`" if ev["identical"] else "element-wise times"
    return f"""# {info['name']}

Diffusion denoiser trained by `linksim train {info['source']}`.

| | |
|---|---|
| data | `{json.dumps(info['data']['spec'])}`, shape {tuple(info['data']['shape'])}, {info['data']['train']} train / {info['data']['test']} test samples |
| backbone | {backbone} |
| network | MLP-Mixer, profile `{sp['network'].get('profile', 'cpu')}`, {info['parameters']} parameters, {info['macs_per_sample'] / 1e6:.2f} MMAC per sample |
| diffusion | schedule `{json.dumps(sp['diffusion']['schedule'])}`, {sp['diffusion']['parameterisation']}-prediction, data norm `{sp['diffusion']['data_norm']}`, training pattern `{sp['diffusion']['pattern']}`{' (continuous times)' if sp['diffusion']['continuous'] else ''} |
| training | {info['steps']} steps, batch {sp['training']['batch_size']} ({sp['training']['groups']} time patterns per batch), Adam lr {sp['training']['learning_rate']} (cosine), final loss {info['final_loss']} |
| time | {info['wall_s']} s wall on this machine, backbone fit included (2 CPU cores for the cpu profile) |
{loop.revision_row(info)}

Measured on {ev['num_test']} held-out channels, {kind} diffusion ({start}), point estimate
`{ev['mode']}`, from a first estimate on every {ev['comb']}th subcarrier of all antennas
(init `{ev['init']}`) with the given SNR per observed element; err_var ratio = mean
reported error variance / mean squared error (1 is calibrated):

{head}
{rule}
""" + "\n".join(rows) + "\n"
