"""The link families and the table that builds a scenario's link (:mod:`.registry`)."""
