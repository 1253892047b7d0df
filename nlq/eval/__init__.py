"""Answer accuracy of the NL pipeline: a fixed question set with gold statements, and a scorer."""
