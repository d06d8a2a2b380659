"""A customer: the tab with header, sections, notes, and the contact editor."""
