"""Keeping the mirror in step with PEMS: read syncs and the write-back of committed drafts."""
