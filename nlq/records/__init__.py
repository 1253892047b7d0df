"""The merged records API: list with filters and keyset paging, one record, export."""
