"""Training programs, one module per model kind, on a shared loop (:mod:`.loop`).

:data:`TRAINERS` is what ``linksim train`` runs: a spec's top-level ``kind`` -> its module
(one line per kind; see :mod:`linksim.plugins`). A program module has ``load_spec(path,
overrides)`` and ``train(spec, resume=..., progress=..., source=...)``.

- :mod:`.channel` — Card A's channel denoisers (OFDM slot link);
- :mod:`.reconstruction` — Card D's reconstruction stages (DDPM, regressor);
- :mod:`.semcom`, :mod:`.classifier` — Card D's semantic systems and the digit classifier;
- :mod:`.narrowband` — Card B's narrowband diffusion priors;
- :mod:`.srs_precoding` — Card C's SL, DM and E2E models.
"""

from ..plugins import Table

TRAINERS = Table("training kind", {
    "channel": "linksim.training.channel",
    "reconstruction": "linksim.training.reconstruction",
    "semcom": "linksim.training.semcom",
    "classifier": "linksim.training.classifier",
    "narrowband": "linksim.training.narrowband",
    "srs_precoding": "linksim.training.srs_precoding",
}, group="linksim.trainers", module_paths=False)
