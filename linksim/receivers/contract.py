"""The receiver contract every receiver-taking link family accepts (OFDM, narrowband,
SRS precoding).

A receiver is built once per link from the family's context and its validated ``Params``;
per batch it gets an :class:`Observation` and returns an :class:`Estimate`. A family adapts
its own observation to this contract (its ``Observation`` subclass), so an estimator that
needs only what every observation offers — the received pilots ``y``, the noise level,
the family's least-squares estimate :meth:`Observation.ls` in the layout of the channel
it must estimate, the true channel for genie receivers — is written once and runs in every
family that it lists in :attr:`Estimator.families` (docs/add-a-receiver.md).

Each family also has a base of its own for receivers that need its particulars
(``NarrowbandReceiver``, ``SRSReceiver``, both Estimators). The OFDM family's is Sionna's
channel-estimator form, ``Receiver(Block)``: ``call(y, no, genie) -> (h_hat, err_var)``
(the first two fields of :class:`Estimate`); the OFDM table takes both kinds.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, fields

from ..config import NoParams
from ..errors import UserError, allowed, echo

__all__ = ["Estimate", "Observation", "Estimator", "check_family"]


@dataclass
class Estimate:
    """What a receiver knows of the channel (every field optional; a family uses what it
    needs and says which fields it requires).

    Attributes
    ----------
    h_hat : complex tensor in the family's channel layout, or None
        Point estimate (an approximation of the conditional mean).
    err_var : float tensor broadcastable to ``h_hat``, or None
        Its expected squared error per entry (calibrated: the ``calibration`` metric
        reports reported / measured).
    samples : complex tensor, or None
        Posterior samples, on the family's sample axis (SRS precoding: ``[B, K, ...]``).
    precoder : complex tensor, or None
        A precoder emitted directly (SRS precoding: ``[B, F, Nb, Ns]``).
    """

    h_hat: object = None
    err_var: object = None
    samples: object = None
    precoder: object = None

    @classmethod
    def of(cls, mapping: dict) -> "Estimate":
        """The estimate of a mapping that names its fields (other keys, e.g. a sampler's
        ``trace``, are left out)."""
        return cls(**{f.name: mapping[f.name] for f in fields(cls) if f.name in mapping})

    def outputs(self) -> dict:
        """The fields that are set, ``{name: tensor}`` (what the finite check reads)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass
class Observation:
    """What a receiver sees of one batch, in its family's layout.

    Attributes
    ----------
    y : complex tensor — the received pilots (narrowband ``[B, Nr, Np]``; SRS precoding
        ``[B, L, P, Nu, Nb]``, one observation per PRB, antenna pair and occasion)
    no : noise variance per received pilot entry (SNR = 1 / no; channels have unit mean
        power): a float in the narrowband and SRS precoding links; in the OFDM links a
        tensor, scalar or per subcarrier
    genie : dict or None — ``{"h": the true channel in the estimate's layout, ...}``, only
        for receivers with ``genie = True``
    rng : tf.random.Generator or None — the batch's generator (receivers that draw)
    """

    y: object
    no: float
    genie: dict | None = None
    rng: object = None

    @property
    def snr_db(self) -> float:
        """``-10 log10(no)`` of a scalar noise variance."""
        return -10.0 * math.log10(float(self.no))

    def ls(self):
        """``(h_ls, err_var)``: the family's least-squares estimate of the channel to
        estimate, in the layout of ``Estimate.h_hat``, and the variance per entry of its
        noise error (the part the pilots' noise causes; what the pilots cannot see — the
        unsounded directions or the channel's change since it was sounded — is not in
        it)."""
        raise NotImplementedError(f"{type(self).__name__} offers no least-squares estimate")


class Estimator(ABC):
    """A receiver of the pilot-observation families.

    Subclasses set ``Params`` (a pydantic model of their scenario options), ``families``
    (the link families whose observation they read) and implement :meth:`__call__`.

    Parameters
    ----------
    context : the family's context (``scenario`` and what the family offers a receiver
        when it is built: training sets, geometry, shapes)
    params : pydantic.BaseModel — validated instance of ``Params``

    Input (``__call__``): :class:`Observation` (the family's subclass).
    Output: :class:`Estimate`.
    """

    Params = NoParams
    #: The link families (``links.registry.family`` names) this receiver serves.
    families: tuple[str, ...] = ()
    genie: bool = False
    offers_samples: bool = False

    def __init__(self, context, params=None):
        self.context = context
        self.params = params if params is not None else self.Params()
        self.build_info: dict = {}   # what the run's meta.json records of the build (models, fits)

    @classmethod
    def check_scenario(cls, scenario, params) -> None:
        """Raise :class:`~linksim.errors.UserError` if the receiver cannot serve the
        scenario (called by ``linksim validate`` before anything is built)."""

    @abstractmethod
    def __call__(self, obs: Observation) -> Estimate:
        ...


def check_family(cls, family: str, name: str) -> None:
    """UserError unless the receiver class ``cls`` (scenario name ``name``) serves
    ``family``."""
    served = tuple(getattr(cls, "families", ()))
    if not served:
        raise UserError(f"receiver {echo(name)} names no link family in its `families`; allowed here: a receiver "
                        f"whose `families` holds {echo(family)}")
    if family not in served:
        raise UserError(f"receiver {echo(name)} serves the {allowed(list(served))} link families, not "
                        f"{echo(family)}")
