"""The cost matrix: plan / forecast / actual cost by group and month, with the caller's drafts."""
