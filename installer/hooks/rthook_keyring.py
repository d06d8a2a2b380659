"""Runtime hook: pin the keyring backend to Windows Credential Manager in the frozen app.

keyring picks a backend by scanning entry points (package metadata) at first
use; in a frozen bundle that scan can miss or rank backends differently, and a
silent fallback to the "fail" backend would lose saved database passwords.
Pinning it makes the bundle behave like the source install on every machine.
"""

import sys

if sys.platform == "win32" and getattr(sys, "frozen", False):
    import keyring
    import keyring.backends.Windows

    keyring.set_keyring(keyring.backends.Windows.WinVaultKeyring())
