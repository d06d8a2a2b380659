"""A case as a tab: header, timeline, the note being written, status steps, time per
department, and the dialogs to open a case and to settle an edit conflict."""
