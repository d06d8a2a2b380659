# shellcheck shell=bash
# Common set-up for scripts/test and scripts/demo -- source it, don't run it.
#
# After sourcing: the current directory is the repository root, and
#   rapport_venv SPEC    creates .venv if needed and runs `pip install -e SPEC`
#                        (skipped when pyproject.toml hasn't changed since the
#                        last successful install; RAPPORT_FORCE_INSTALL=1 forces it)
#   rapport_apt_install PKG...   best-effort apt-get install as root (returns non-zero on failure)
#   rapport_die MSG      prints MSG to stderr and exits 1
#
# Environment: PYTHON selects the interpreter (default python3.11, else python3);
# RAPPORT_APT=0 never runs apt-get (what is missing is only reported).

RAPPORT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$RAPPORT_ROOT"

rapport_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

rapport_note() {
    printf 'note: %s\n' "$*" >&2
}

rapport_is_root() {
    [ "$(id -u)" -eq 0 ]
}

rapport_have_apt() {
    [ "${RAPPORT_APT:-1}" != 0 ] && rapport_is_root && command -v apt-get >/dev/null 2>&1
}

# apt-get install as root; runs `apt-get update` and retries once if the first attempt
# fails (fresh images have no package lists). Waits up to 2 minutes for the dpkg lock.
rapport_apt_install() {
    rapport_have_apt || return 1
    local apt=(apt-get -y -q -o DPkg::Lock::Timeout=120 -o APT::Install-Recommends=false)
    echo "==> apt-get install $*"
    if DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "$@" >/tmp/rapport-apt.log 2>&1; then
        return 0
    fi
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >>/tmp/rapport-apt.log 2>&1 || true
    if DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "$@" >>/tmp/rapport-apt.log 2>&1; then
        return 0
    fi
    tail -n 5 /tmp/rapport-apt.log >&2 || true
    return 1
}

rapport_python() {
    local py
    if [ -n "${PYTHON:-}" ]; then
        py="$PYTHON"
    elif command -v python3.11 >/dev/null 2>&1; then
        py=python3.11
    elif command -v python3 >/dev/null 2>&1; then
        py=python3
    else
        rapport_die "Python 3.11+ not found: install python3.11 (or set PYTHON=/path/to/python3.11+)"
    fi
    command -v "$py" >/dev/null 2>&1 || rapport_die "PYTHON=$py: no such interpreter"
    if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        rapport_die "$py is Python $("$py" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo '?'); Rapport needs Python 3.11+: install python3.11 or set PYTHON=/path/to/python3.11+"
    fi
    printf '%s\n' "$py"
}

rapport_make_venv() {
    local py
    py="$(rapport_python)" || exit 1
    if [ -x .venv/bin/python ]; then
        .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
            || rapport_die ".venv is broken or older than Python 3.11: remove it (rm -rf .venv) and re-run"
        return 0
    fi
    echo "==> creating .venv with $py ($("$py" -c 'import platform; print(platform.python_version())'))"
    if ! "$py" -m venv .venv; then
        rm -rf .venv
        local minor
        minor="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        if rapport_have_apt && { rapport_apt_install "python${minor}-venv" || rapport_apt_install python3-venv; }; then
            "$py" -m venv .venv || { rm -rf .venv; rapport_die "could not create .venv with $py"; }
        else
            rapport_die "could not create .venv with $py: install the venv module (Debian/Ubuntu: apt-get install python${minor}-venv)"
        fi
    fi
}

rapport_venv() {
    local spec="$1"
    rapport_make_venv
    local stamp_dir=.venv/.rapport-install
    local stamp
    stamp="$stamp_dir/$(printf '%s' "$spec" | tr -c 'A-Za-z0-9' '_')"
    local want
    want="$(cat pyproject.toml .venv/pyvenv.cfg | cksum)"
    if [ "${RAPPORT_FORCE_INSTALL:-0}" != 1 ]; then
        local done_stamp candidates=("$stamp")
        # An install of ".[test]" also satisfies ".".
        [ "$spec" != "." ] || candidates+=("$stamp_dir/__test_")
        for done_stamp in "${candidates[@]}"; do
            if [ -f "$done_stamp" ] && [ "$(cat "$done_stamp")" = "$want" ]; then
                return 0
            fi
        done
    fi
    echo "==> pip install -e $spec"
    local log
    log="$(mktemp)"
    if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        rapport_die "pip install -e $spec failed (output above)"
    fi
    rm -f "$log"
    mkdir -p "$stamp_dir"
    printf '%s\n' "$want" >"$stamp"
}
