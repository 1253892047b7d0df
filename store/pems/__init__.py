"""PEMS (HxGN EAM): the client, the one alias mapping, and a simulator that speaks the same contract."""
