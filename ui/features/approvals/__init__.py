"""Approvals: the supervisor's and manager's queue of override requests (F6), the
availability heartbeat, notifications, the authority matrix and single-user mode's
switch between staff members."""
