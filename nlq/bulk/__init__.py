"""Bulk-edit suggestions: a plan (target + changes) becomes a reviewable change set, never a write."""
