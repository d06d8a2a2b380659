"""The window frame: menus, tabs, status bar, banner, the connection."""
