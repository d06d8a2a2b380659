"""Dashboards: supervisors' and managers' figures, chart, drill-down and export (F7)."""
