"""The call log tab: recent calls, missed ones, click-to-call."""
