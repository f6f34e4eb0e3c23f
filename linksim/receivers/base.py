"""The receiver hook: a channel estimator with Sionna's output contract."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Callable

import numpy as np
from pydantic import BaseModel
from sionna.phy import Block
from sionna.phy.mimo import StreamManagement
from sionna.phy.ofdm import ResourceGrid

from ..config import NoParams
from .contract import Observation


@dataclass
class LinkContext:
    """What a receiver may know about the link when it is built.

    Attributes
    ----------
    scenario : Scenario
        The resolved scenario.
    resource_grid : ResourceGrid
        Grid with the pilot pattern (for sounding, its "OFDM symbols" are SRS occasions).
    stream_management : StreamManagement
    sample_channels : Callable[[int, int | None], np.ndarray]
        ``sample_channels(n, component=None)`` draws ``n`` fresh channel realisations of
        this scenario (of one mixture component if given) as seen by the receiver (after
        precoding), shape ``[n, num_rx_ant, num_streams, S', num_subcarriers]``
        complex64, each of its ``S'`` symbols a draw of the per-symbol channel: one OFDM
        symbol per slot for the data link (``S' = 1``), the ``S' = J`` occasions for
        sounding. For statistics over space and frequency (covariances, fits), never the
        realisations under test; receivers share the draws.
    num_components : int
        Components of the channel mixture (1 without ``channel.mixture``).
    """

    scenario: object
    resource_grid: ResourceGrid
    stream_management: StreamManagement
    sample_channels: Callable[..., np.ndarray]
    num_components: int = 1

    @property
    def num_rx_ant(self) -> int:
        return self.scenario.rx_array.num_ant

    @property
    def per_re_noise(self) -> bool:
        """Whether ``no`` is given per subcarrier (a known narrowband interferer)."""
        itf = self.scenario.interference
        return bool(itf.subcarriers) and itf.known

    @property
    def num_streams(self) -> int:
        return self.resource_grid.num_streams_per_tx


@dataclass
class OFDMObservation(Observation):
    """One batch of the OFDM links for a receiver on the shared contract
    (:mod:`linksim.receivers.contract`): ``y`` [B, 1, Nr, S, F] the received resource grid,
    ``no`` its noise variance per RE (scalar, or per subcarrier with a known interferer);
    the channel to estimate is ``h`` [B, 1, Nr, 1, Ns, S, F] (``genie["h"]``, with
    ``genie["component"]`` [B] the mixture component). ``ls_estimator``: the link's LS
    estimator at the pilots with linear interpolation
    (:class:`~linksim.receivers.ls.NoiseAwareLS`)."""

    ls_estimator: Callable | None = None

    def ls(self):
        """LS at the pilot REs (error variance ``no / |p|^2``), linearly interpolated over
        the grid (Sionna's interpolator; its error variance too)."""
        return self.ls_estimator(self.y, self.no)


class Receiver(Block):
    """Abstract channel-estimating receiver front end.

    A receiver turns the received resource grid into a channel estimate and its error
    variance; Sionna's detectors and the LDPC decoder consume them unchanged.

    Contract:

    * ``h_hat`` is the receiver's best point estimate (for a Bayesian receiver, its
      approximation of the conditional mean, not one random sample);
    * ``err_var`` is calibrated: on average it equals the real squared error per resource
      element (the ``calibration`` metric reports the ratio);
    * a receiver sees what a real receiver sees (``y``, the pilots, the noise level); only
      receivers that declare ``genie = True`` get the true channel and the mixture
      component of each realisation (``genie``);
    * receivers with ``offers_samples = True`` also draw posterior samples of the channel
      (:meth:`posterior_samples`), for tasks that need the spread (Bayesian precoding,
      uncertainty plots).

    Subclasses set ``Params`` (a pydantic model of their scenario options) and implement
    :meth:`call`. (The OFDM table also takes receivers on the shared contract,
    :class:`~linksim.receivers.contract.Estimator` with ``"ofdm"`` in ``families``: they
    get an :class:`OFDMObservation` and return an ``Estimate`` with ``h_hat`` and
    ``err_var`` in the shapes below.)

    Parameters
    ----------
    context : LinkContext
    params : pydantic.BaseModel
        Validated instance of ``Params``.

    Input
    -----
    y : [batch_size, 1, num_rx_ant, num_ofdm_symbols, fft_size], tf.complex
        Received resource grid.
    no : [], or [1, 1, 1, 1, fft_size] broadcastable to ``y``, tf.float
        Noise variance per resource element: a scalar for white noise, per subcarrier
        with a known narrowband interferer (``LinkContext.per_re_noise``).
        :class:`~linksim.receivers.ls.NoiseAwareLS` takes both forms.
    genie : dict | None
        Only for ``genie`` receivers (``None`` for the others):
        ``{"h": [batch_size, 1, num_rx_ant, 1, num_streams, num_ofdm_symbols, fft_size]
        tf.complex`` (the true effective channel), ``"component": [batch_size] tf.int32``
        (mixture component of each realisation; 0 without a mixture)``}``.

    Output
    ------
    h_hat : [batch_size, 1, num_rx_ant, 1, num_streams, num_ofdm_symbols, fft_size], tf.complex
        Channel estimate.
    err_var : broadcastable to ``h_hat``, tf.float
        Variance of the estimation error.
    """

    Params: type[BaseModel] = NoParams
    families = ("ofdm",)   # the link families it serves (see linksim.receivers.contract)
    genie: bool = False
    offers_samples: bool = False

    def __init__(self, context: LinkContext, params: BaseModel | None = None, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        self.context = context
        self.params = params if params is not None else self.Params()

    @classmethod
    def check_scenario(cls, scenario, params) -> None:
        """Raise :class:`~linksim.errors.UserError` if this receiver cannot serve the
        scenario (called at validation time, before anything is built)."""

    @abstractmethod
    def call(self, y, no, genie=None):
        raise NotImplementedError

    def posterior_samples(self, y, no, num_samples: int):
        """``num_samples`` posterior samples of the channel (receivers with
        ``offers_samples``).

        Input
        -----
        y, no : as :meth:`call`
        num_samples : int

        Output
        ------
        samples : [num_samples, batch_size, 1, num_rx_ant, 1, num_streams, num_ofdm_symbols, fft_size], tf.complex
        """
        raise NotImplementedError(f"{type(self).__name__} draws no posterior samples")
