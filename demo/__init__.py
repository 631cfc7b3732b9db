"""``stampbot demo``: the scripted café week, on the embedded default and the loopback fakes."""
