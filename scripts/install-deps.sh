#!/usr/bin/env bash
# Installs what Mujun needs to build, run and test on Debian 12 (bookworm), as root.
# Idempotent: installs only what is missing, and runs `apt-get update` only then.
#   Debian: Chromium + chromedriver and a CJK font (browser tests, screenshots of the
#   Chinese UI), Chart.js and Leaflet (served by the app), PostgreSQL 15 (the Postgres
#   test leg), SQLite, GDAL/GEOS/PROJ, nginx (the reverse proxy of the multi-instance tests), and
#   the C libraries Swift on Linux links against.
#   Python (the `python3` on PATH): selenium, openpyxl, pytest, pandas (the reference
#   implementation of the evaluation that tests/cli cross-checks and `make bench` times), and
#   openapi-spec-validator and schemathesis 4.x (tests/api: the OpenAPI document and fuzzing),
#   aiosmtpd (the SMTP receiver of tests/ops) and locust (bench/load).
# Environment: MUJUN_SKIP_APT=1 skips the Debian part, MUJUN_SKIP_PIP=1 the Python part.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

APT_PACKAGES=(
    chromium chromium-driver
    libjs-chart.js libjs-leaflet
    postgresql postgresql-15 postgresql-client-15
    sqlite3 libsqlite3-dev
    gdal-bin libgeos-dev libproj-dev proj-bin
    python3 python3-venv
    pkg-config
    libcurl4-openssl-dev libxml2-dev zlib1g-dev libssl-dev
    fonts-noto-cjk
    nginx
    ca-certificates procps
)
# IMPORT_NAME=PIP_REQUIREMENT, or just the name when both are the same; a module that imports but
# whose installed version does not meet the requirement counts as missing.
PIP_MODULES=(
    selenium openpyxl pytest pandas
    "openapi_spec_validator=openapi-spec-validator"
    "schemathesis=schemathesis>=4,<5"
    aiosmtpd locust
)

say()  { printf 'install-deps: %s\n' "$*"; }
fail() { printf 'install-deps: ERROR: %s\n' "$*" >&2; exit 1; }

# py_has IMPORT_NAME REQUIREMENT: the module imports and its distribution meets the requirement
py_has() {
    python3 - "$1" "$2" >/dev/null 2>&1 <<'PY'
import importlib, importlib.metadata as md, sys
module, requirement = sys.argv[1], sys.argv[2]
importlib.import_module(module)
try:
    from pip._vendor.packaging.requirements import Requirement
except ImportError:  # no pip to read the requirement with: importing is enough
    sys.exit(0)
req = Requirement(requirement)
sys.exit(0 if req.specifier.contains(md.version(req.name), prereleases=True) else 1)
PY
}

is_installed() {
    # dpkg-query prints "install ok installed" for a fully installed package
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# ---------------------------------------------------------------- Debian packages
if [ "${MUJUN_SKIP_APT:-0}" != "1" ]; then
    command -v dpkg-query >/dev/null 2>&1 || fail "dpkg-query not found: this script expects Debian 12 (bookworm)"
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
        is_installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" = "0" ] || fail "missing Debian packages (${missing[*]}); run as root or: sudo apt-get install ${missing[*]}"
        say "installing Debian packages: ${missing[*]}"
        log="$(mktemp /tmp/mujun-apt.XXXXXX.log)"
        if ! apt-get update -q >"$log" 2>&1; then
            tail -n 20 "$log" >&2
            fail "apt-get update failed (full log: $log)"
        fi
        if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
            tail -n 30 "$log" >&2
            fail "apt-get install failed for: ${missing[*]} (full log: $log)"
        fi
        for p in "${missing[@]}"; do
            is_installed "$p" || fail "Debian package $p is still not installed after apt-get install (log: $log)"
        done
        rm -f "$log"
        say "Debian packages installed"
    else
        say "Debian packages: all present"
    fi
    [ -x /usr/lib/postgresql/15/bin/initdb ] || fail "PostgreSQL 15 binaries not found in /usr/lib/postgresql/15/bin"
    [ -x /usr/bin/chromium ] || fail "/usr/bin/chromium not found"
    [ -x /usr/bin/chromedriver ] || fail "/usr/bin/chromedriver not found"
fi

# ---------------------------------------------------------------- Python test modules
if [ "${MUJUN_SKIP_PIP:-0}" != "1" ]; then
    command -v python3 >/dev/null 2>&1 || fail "python3 not found on PATH"
    pmissing=()      # pip requirements to install
    pimports=()      # and the modules they must make importable
    for m in "${PIP_MODULES[@]}"; do
        mod="${m%%=*}"; req="${m#*=}"
        if ! py_has "$mod" "$req"; then pmissing+=("$req"); pimports+=("$mod=$req"); fi
    done
    if [ ${#pmissing[@]} -gt 0 ]; then
        say "installing Python modules for $(command -v python3): ${pmissing[*]}"
        log="$(mktemp /tmp/mujun-pip.XXXXXX.log)"
        pipflags=(-q --disable-pip-version-check)
        # Debian's own python3 refuses system-wide pip installs (PEP 668); allow it there.
        if python3 -c 'import sys,sysconfig,os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"),"EXTERNALLY-MANAGED")) else 1)' 2>/dev/null; then
            pipflags+=(--break-system-packages)
        fi
        if ! python3 -m pip install "${pipflags[@]}" "${pmissing[@]}" >"$log" 2>&1; then
            tail -n 20 "$log" >&2
            fail "pip install failed for: ${pmissing[*]} (full log: $log)"
        fi
        for m in "${pimports[@]}"; do
            py_has "${m%%=*}" "${m#*=}" || fail "Python module ${m%%=*} (${m#*=}) still not importable after pip install (log: $log)"
        done
        rm -f "$log"
        say "Python modules installed"
    else
        say "Python modules: all present"
    fi
fi
