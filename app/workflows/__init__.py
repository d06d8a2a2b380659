"""Workflows: things with states (a call today; a case, an override request later).

Plain Python with their transitions in one table, no Qt and no database, so every
allowed and refused step is tested without a window (tests/test_call_session.py).
The UI drives them (ui/features/<feature>/controller.py) and performs the writes a
step calls for through app/operations.
"""
