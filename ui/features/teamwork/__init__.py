"""Working together on a case: presence and claims, macros, feedback.

Widgets the case tab embeds (ui/features/cases/ wires them):
- `presence.PresenceBar` + `presence.PresenceDriver`: who else is here, "Claim (I'm replying)".
- `macro_picker.MacroPicker`: a filterable list of the team's macros; Enter inserts one.
- `feedback_dialog.FeedbackDialog`: rating, comment, channel; shows the sentiment result.
"""
