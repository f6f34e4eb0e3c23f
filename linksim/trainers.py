"""The training programs ``linksim train`` runs: a spec's top-level ``kind`` -> its module
(one line per kind; see :mod:`linksim.plugins`). A program module has ``load_spec(path,
overrides)`` and ``train(spec, resume=..., progress=..., source=...)``."""

from .plugins import Table

TRAINERS = Table("training kind", {
    "channel": "linksim.train",
    "reconstruction": "linksim.train_reconstruction",
    "semcom": "linksim.semcom.training",
    "classifier": "linksim.semcom.classifier_training",
    "narrowband": "linksim.narrowband.training",
    "srs_precoding": "linksim.tdd.training",
}, group="linksim.trainers", module_paths=False)
