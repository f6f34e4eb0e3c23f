"""TDD downlink precoding from uplink SRS under channel ageing (link.mode srs_precoding,
Card C): the SRS history and its channels (:mod:`.channels`), the observation model
(:mod:`.observation`), the shared transformer backbone (:mod:`.backbone`), the SL, DM and
E2E models (:mod:`.models`), the Wiener predictor (:mod:`.wiener`), precoders from point
estimates, posterior samples or directly (:mod:`.precoders`), the receivers
(:mod:`.receivers`), the link (:mod:`.link`) and the training program (:mod:`.training`).

Orientation: every channel here is the downlink matrix ``H`` [num_ue_ant, num_bs_ant] of a
PRB (TDD reciprocity: the transpose of the uplink channel the SRS sounds).
"""
