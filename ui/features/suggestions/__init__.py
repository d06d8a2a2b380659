"""Next best action from the agent's chair (issue 13, S1, S2, S6): the Suggested section
of the customer tab, the churn badge in its header, and what becomes of each suggestion
(accepted, declined with a reason, offered with a concession).

Embedded by the customer tab, as authority's widgets are; it imports no feature but
authority (its "Make it right…" dialog grants what a suggestion offers). Nothing here is
imported before the first paint: the customer tab makes its desk once it is painted.
"""
