"""Import from legacy systems (S8): the import wizard, opened from Tools."""
