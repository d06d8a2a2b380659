"""Authority from the agent's chair: the Concessions section and budget, policy hints,
"Make it right…" (grant, or ask a supervisor while the customer waits), the waiting
panel with the live answer, and the product lookup.

Embedded by the customer tab (like the shared widgets of `features/work`); it imports no
other feature. Nothing here is imported before the first paint: the customer tab loads
it once the tab is shown, and the shell when the product lookup is opened.
"""
