"""Drafts API: save, batch, list, discard, commit, commit status, conflict resolution."""
