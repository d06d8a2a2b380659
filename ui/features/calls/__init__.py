"""Calls: the toast, the call bar, the wrap-up."""
