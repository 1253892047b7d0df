"""The timeline: plan / forecast / actual bars of the caller's merged records, a page at a time."""
