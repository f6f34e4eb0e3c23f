"""Docs that are generated or executed stay in step with the code."""

from pathlib import Path

from linksim.schema_doc import render

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_scenario_reference_is_generated_from_schema():
    committed = (DOCS / "scenario-reference.md").read_text()
    assert committed == render(), "regenerate: python -m linksim.schema_doc > docs/scenario-reference.md"


def test_scenario_reference_lists_every_section_key():
    from linksim import scenario as sc
    from linksim.narrowband.config import Narrowband
    from linksim.semcom.config import Semantic
    from linksim.system import config as ofdm
    from linksim.tdd.config import SRSPrecoding

    text = render()
    for model in (ofdm.Carrier, ofdm.Array, ofdm.Channel, ofdm.Pilots, ofdm.SRS, sc.Link, ofdm.Mimo, sc.Sweep,
                  sc.Runtime, Narrowband, SRSPrecoding, Semantic):
        for name in model.model_fields:
            assert f"`{name}`" in text, name
