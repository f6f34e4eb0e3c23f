"""Diffusion core: schedules, forward process, parameterisations, steppers, samplers.

network ⟂ parameterisation ⟂ schedule ⟂ sampler: a network ``f(x_hat, tau)`` becomes a
denoiser ``(x, tau) -> x0_hat`` through :class:`Denoiser`; :func:`sample` runs any
denoiser with any stepper. Identical diffusion is the scalar-``tau`` case.
"""

from .forward import (INPUT_NORMS, denormalize_data, diffuse, normalize_data,
                      normalize_input, observation_rewrite)
from .parameterisation import Denoiser, from_x0, target, to_eps, to_v, to_x0
from .samplers import eta_to_eps, sample, update
from .schedules import (CosineSchedule, GammaSchedule, LinearBetaSchedule, Schedule,
                        cosine_schedule, gamma, gamma_inv, gamma_log_table,
                        linear_beta_schedule, make_schedule, tau_of_log_alpha)
from .steppers import STEPPER_NAMES, get_stepper, hybrid, on_alpha, uniform, waterfill

__all__ = [
    "INPUT_NORMS", "denormalize_data", "diffuse", "normalize_data", "normalize_input",
    "observation_rewrite", "Denoiser", "from_x0", "target", "to_eps", "to_v", "to_x0",
    "eta_to_eps", "sample", "update", "CosineSchedule", "GammaSchedule",
    "LinearBetaSchedule", "Schedule", "cosine_schedule", "gamma", "gamma_inv",
    "gamma_log_table", "linear_beta_schedule", "make_schedule", "tau_of_log_alpha",
    "STEPPER_NAMES",
    "get_stepper", "hybrid", "on_alpha", "uniform", "waterfill",
]
