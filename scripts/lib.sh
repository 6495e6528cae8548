#!/usr/bin/env bash
# Shared helpers for scripts/dev, scripts/test and .ci/run. Source it, don't run it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Safe under `set -euo pipefail`. Functions:
#   ensure_venv          .venv with python >= 3.11, `pip install -e '.[dev]'` (+ `-e ./sdk` once
#                        sdk/pyproject.toml exists); skipped when the pyproject files are unchanged.
#   ensure_redis_binary  redis-server on PATH (apt-get install redis-server when absent).
#   ensure_chromium      /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium
#                        chromium-driver when absent), for the browser tests.
#   ensure_swaks         swaks with TLS support (apt-get install swaks libnet-ssleay-perl when
#                        absent), an SMTP client the submission tests drive.
#   ensure_postfix       Postfix and Cyrus SASL's PLAIN/LOGIN client modules (apt-get install
#                        postfix libsasl2-modules when absent, preseeded "No configuration"); the
#                        submission tests run a throw-away instance of it that relays through
#                        Herald. A system-wide Postfix started by that install is stopped.
#   ensure_redis         ... and a Redis answering at HERALD_REDIS_HOST:HERALD_REDIS_PORT (not used
#                        by scripts/test: the test suite starts its own redis-server child).
#   ensure_postgres      PostgreSQL installed, running, reachable; exports HERALD_TEST_POSTGRES_URL
#                        (a role that may CREATE DATABASE).
#   ensure_node_tools    node + npm (Debian's nodejs/npm when absent) and the test suite's
#                        independent checkers in tests/js (`npm ci`; skipped when
#                        package-lock.json and the node version are unchanged).
#   as_root CMD...       run CMD as root (directly when root, else via sudo).
#
# Environment knobs (all optional):
#   HERALD_PYTHON              interpreter used to create .venv (default: first python >= 3.11)
#   HERALD_FORCE_INSTALL=1     reinstall into .venv even when the stamp matches
#   HERALD_PG_HOST / _PORT     where PostgreSQL is expected (default 127.0.0.1 / 5432)
#   HERALD_PG_TEST_PASSWORD    password set on the `herald` role when trust auth is not available
#   HERALD_TEST_POSTGRES_URL   if already set, ensure_postgres only checks it answers
#   HERALD_REDIS_HOST / _PORT  where ensure_redis expects Redis (default 127.0.0.1 / 6379)
#   HERALD_SETUP_DRY_RUN=1     print the privileged commands (apt-get, starting servers, roles)
#                              instead of running them; used to test the "not running" branches

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    echo "scripts/lib.sh is a library: source it from bash (see the comment at its top)" >&2
    exit 2
fi
if [[ -n "${_HERALD_LIB_SOURCED:-}" ]]; then
    return 0
fi
_HERALD_LIB_SOURCED=1

HERALD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERALD_VENV="${HERALD_ROOT}/.venv"
# Bump when the install recipe below changes, to force one reinstall everywhere.
_HERALD_STAMP_RECIPE="herald-venv-v1"
_HERALD_APT_UPDATED=""

# ---------------------------------------------------------------------------- output

if [[ -t 1 ]]; then
    _c_bold=$'\033[1m' _c_red=$'\033[31m' _c_yel=$'\033[33m' _c_off=$'\033[0m'
else
    _c_bold="" _c_red="" _c_yel="" _c_off=""
fi

log() { printf '%s[herald]%s %s\n' "$_c_bold" "$_c_off" "$*" >&2; }
warn() { printf '%s[herald] warning:%s %s\n' "$_c_yel" "$_c_off" "$*" >&2; }
die() {
    printf '%s[herald] error:%s %s\n' "$_c_red" "$_c_off" "$*" >&2
    exit 1
}
section() { printf '\n%s==================== %s ====================%s\n' "$_c_bold" "$*" "$_c_off"; }

_dry_run() { [[ "${HERALD_SETUP_DRY_RUN:-}" == 1 ]]; }

# ---------------------------------------------------------------------------- privileges

# as_root CMD...: run CMD as root. Uses sudo when not root (non-interactive when there is no
# terminal, e.g. in CI). Dies with a clear message when neither is possible.
as_root() {
    if _dry_run; then
        log "[dry-run] as root: $*"
        return 0
    fi
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        if [[ -t 0 ]]; then
            sudo -- "$@"
        else
            sudo -n -- "$@"
        fi
    else
        die "need root for: $* (not root and sudo is not installed); run it as root, or install what it needs by hand"
    fi
}

# as_postgres CMD...: run CMD as the `postgres` OS user (peer auth over the unix socket).
as_postgres() {
    if _dry_run; then
        log "[dry-run] as postgres: $*"
        return 0
    fi
    if [[ "$(id -un)" == postgres ]]; then
        "$@"
    elif [[ "$(id -u)" -eq 0 ]]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    elif command -v sudo >/dev/null 2>&1; then
        if [[ -t 0 ]]; then
            sudo -u postgres -- "$@"
        else
            sudo -n -u postgres -- "$@"
        fi
    else
        die "need root or sudo to act as the postgres OS user"
    fi
}

need_root_or_sudo() {
    [[ "$(id -u)" -eq 0 ]] || command -v sudo >/dev/null 2>&1 || _dry_run ||
        die "need root or sudo to $* (not root and sudo is not installed)"
}

# apt_install PKG...: apt-get update (once per process) + install, non-interactive.
apt_install() {
    command -v apt-get >/dev/null 2>&1 ||
        die "cannot install $* automatically: no apt-get here; install it with your package manager"
    need_root_or_sudo "install $*"
    if [[ -z "$_HERALD_APT_UPDATED" ]]; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        _HERALD_APT_UPDATED=1
    fi
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# ---------------------------------------------------------------------------- network probes

_is_loopback() {
    case "$1" in
        localhost | 127.* | ::1 | '[::1]') return 0 ;;
        *) return 1 ;;
    esac
}

# _port_open HOST PORT: true when something accepts TCP connections there.
# shellcheck disable=SC2016 # $1/$2 expand in the inner bash, on purpose
_port_open() {
    local host="${1#[}"
    host="${host%]}"
    if command -v timeout >/dev/null 2>&1; then
        timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$2" >/dev/null 2>&1
    else
        bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$2" >/dev/null 2>&1
    fi
}

# _wait_port HOST PORT SECONDS
_wait_port() {
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        _port_open "$1" "$2" && return 0
        sleep 0.2
    done
    return 1
}

# ---------------------------------------------------------------------------- python venv

_python_ok() {
    "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

_find_python() {
    local cand
    if [[ -n "${HERALD_PYTHON:-}" ]]; then
        _python_ok "$HERALD_PYTHON" || return 1
        printf '%s\n' "$HERALD_PYTHON"
        return 0
    fi
    for cand in python3.11 python3 python3.12 python3.13 python3.14 python; do
        if command -v "$cand" >/dev/null 2>&1 && _python_ok "$cand"; then
            command -v "$cand"
            return 0
        fi
    done
    return 1
}

_venv_stamp_value() {
    # Hash of everything that decides what gets installed: the recipe, the interpreter, and the
    # pyproject files (sdk/pyproject.toml's presence included).
    local f
    {
        printf '%s\n' "$_HERALD_STAMP_RECIPE"
        "$HERALD_VENV/bin/python" -c 'import sys; print(sys.version)'
        for f in pyproject.toml sdk/pyproject.toml; do
            if [[ -f "$HERALD_ROOT/$f" ]]; then
                printf '== %s\n' "$f"
                cat "$HERALD_ROOT/$f"
            else
                printf '== %s (absent)\n' "$f"
            fi
        done
    } | "$HERALD_VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
}

_ensure_venv_locked() {
    local py stamp_file="$HERALD_VENV/.herald-install-stamp" want
    if [[ -e "$HERALD_VENV" ]] && ! _python_ok "$HERALD_VENV/bin/python"; then
        warn ".venv is broken or too old (needs python >= 3.11); recreating it"
        rm -rf "$HERALD_VENV"
    fi
    if [[ ! -e "$HERALD_VENV" ]]; then
        if ! py="$(_find_python)"; then
            [[ -z "${HERALD_PYTHON:-}" ]] || die "HERALD_PYTHON=$HERALD_PYTHON is not a python >= 3.11 with the venv module"
            warn "no python >= 3.11 found; trying Debian's python3"
            apt_install python3 python3-venv python3-pip
            py="$(_find_python)" || die "no python >= 3.11 (with the venv module) found; install one or set HERALD_PYTHON"
        fi
        log "creating .venv with $py ($("$py" -c 'import sys; print(sys.version.split()[0])'))"
        if ! "$py" -m venv "$HERALD_VENV"; then
            rm -rf "$HERALD_VENV"
            die "'$py -m venv' failed (on Debian: apt-get install python3-venv)"
        fi
    fi

    want="$(_venv_stamp_value)"
    if [[ "${HERALD_FORCE_INSTALL:-}" != 1 && -f "$stamp_file" && "$(cat "$stamp_file")" == "$want" &&
        -x "$HERALD_VENV/bin/herald" && -x "$HERALD_VENV/bin/pytest" ]]; then
        log ".venv is up to date"
        return 0
    fi

    local -a pkgs=(-e "${HERALD_ROOT}[dev]")
    if [[ -f "$HERALD_ROOT/sdk/pyproject.toml" ]]; then
        pkgs+=(-e "${HERALD_ROOT}/sdk")
    fi
    log "installing into .venv: pip install ${pkgs[*]}"
    rm -f "$stamp_file"
    # The grep drops only pip's noise about configured local index folders that don't exist.
    PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$HERALD_VENV/bin/python" -m pip install --quiet --progress-bar off "${pkgs[@]}" 2>&1 |
        { grep -v "^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory" || true; } ||
        die "pip install into .venv failed (see above)"
    printf '%s\n' "$want" >"$stamp_file"
    log ".venv ready"
}

# ensure_venv: create/refresh .venv. Serialised with flock (when available) so two scripts started
# at once in the same checkout don't install over each other.
ensure_venv() {
    if command -v flock >/dev/null 2>&1; then
        local lock_id lock_file
        lock_id="$(printf '%s' "$HERALD_ROOT" | cksum | cut -d' ' -f1)"
        lock_file="${TMPDIR:-/tmp}/herald-venv-${lock_id}.lock"
        (
            flock -w 900 9 || die "timed out waiting for $lock_file"
            _ensure_venv_locked
        ) 9>"$lock_file"
    else
        _ensure_venv_locked
    fi
}

# ---------------------------------------------------------------------------- redis

ensure_redis_binary() {
    if command -v redis-server >/dev/null 2>&1; then
        log "redis-server: $(command -v redis-server)"
        return 0
    fi
    log "redis-server not found; installing it"
    apt_install redis-server
    _dry_run && return 0
    command -v redis-server >/dev/null 2>&1 || die "redis-server still not on PATH after installing it"
}

# ensure_chromium: Debian's chromium and chromium-driver (the browser tests drive them through
# Selenium), installed with apt-get when /usr/bin/chromium or /usr/bin/chromedriver is missing.
ensure_chromium() {
    if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
        log "chromium: /usr/bin/chromium, chromedriver: /usr/bin/chromedriver"
        return 0
    fi
    log "chromium or chromedriver not found; installing them"
    apt_install chromium chromium-driver
    _dry_run && return 0
    [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] ||
        die "/usr/bin/chromium or /usr/bin/chromedriver still missing after installing them"
}

# ensure_swaks: swaks and Net::SSLeay (its STARTTLS and TLS-on-connect need it), installed
# with apt-get when either is missing; the submission tests use it as an SMTP client.
_swaks_has_tls() {
    swaks --support 2>/dev/null | grep -q '^=== TLS supported'
}

ensure_swaks() {
    if command -v swaks >/dev/null 2>&1 && _swaks_has_tls; then
        log "swaks: $(command -v swaks)"
        return 0
    fi
    log "swaks (or its TLS support) not found; installing it"
    apt_install swaks libnet-ssleay-perl
    _dry_run && return 0
    command -v swaks >/dev/null 2>&1 || die "swaks still not on PATH after installing it"
    _swaks_has_tls || die "swaks reports no TLS support after installing libnet-ssleay-perl"
}

_sasl_client_modules() {
    compgen -G '/usr/lib/*/sasl2/libplain.so*' >/dev/null || compgen -G '/usr/lib/sasl2/libplain.so*' >/dev/null
}

# ensure_postfix: Postfix (postfix, postmap, sendmail) and the Cyrus SASL PLAIN/LOGIN modules
# its SMTP client authenticates with, installed with apt-get when missing. The package is
# preseeded with "No configuration" so that it sets up no mail server for the machine; the tests
# run their own instances under temporary directories. If the install started a system-wide
# Postfix anyway, it is stopped. A Postfix that was installed (and running) before is left alone.
ensure_postfix() {
    if [[ -x /usr/sbin/postfix && -x /usr/sbin/postmap && -x /usr/sbin/sendmail ]] && _sasl_client_modules; then
        log "postfix: /usr/sbin/postfix"
        return 0
    fi
    log "postfix or its SASL client modules not found; installing them (no system mail server)"
    if _dry_run; then
        log "[dry-run] debconf-set-selections: postfix postfix/main_mailer_type select No configuration"
    else
        printf '%s\n' "postfix postfix/main_mailer_type select No configuration" |
            as_root debconf-set-selections ||
            die "debconf-set-selections failed (is debconf installed?)"
    fi
    apt_install postfix libsasl2-modules
    _dry_run && return 0
    [[ -x /usr/sbin/postfix && -x /usr/sbin/postmap && -x /usr/sbin/sendmail ]] ||
        die "postfix, postmap or sendmail still missing from /usr/sbin after installing postfix"
    _sasl_client_modules || die "Cyrus SASL's PLAIN module still missing after installing libsasl2-modules"
    if [[ -f /etc/postfix/main.cf ]] && as_root postfix status >/dev/null 2>&1; then
        log "stopping the system-wide Postfix the package install started"
        as_root postfix stop >/dev/null 2>&1 || warn "could not stop the system-wide Postfix (postfix stop)"
    fi
}

# ensure_redis: redis-server installed and a Redis answering at HERALD_REDIS_HOST:HERALD_REDIS_PORT;
# starts one (no persistence) on that loopback port when nothing answers.
ensure_redis() {
    local host="${HERALD_REDIS_HOST:-127.0.0.1}" port="${HERALD_REDIS_PORT:-6379}"
    if _port_open "$host" "$port"; then
        log "redis answers at $host:$port"
        return 0
    fi
    _is_loopback "$host" || die "no Redis answers at $host:$port (not a loopback address: not starting one)"
    ensure_redis_binary
    log "nothing answers at $host:$port; starting redis-server there"
    local dir=/var/lib/redis logfile=/var/log/redis/ci.log
    if [[ "$(id -u)" -ne 0 ]]; then
        dir="${TMPDIR:-/tmp}/herald-redis-$port"
        logfile="$dir/redis.log"
        _dry_run || mkdir -p "$dir"
        if _dry_run; then
            log "[dry-run] redis-server --daemonize yes --bind $host --port $port --dir $dir"
        else
            redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
                --dir "$dir" --logfile "$logfile"
        fi
    else
        as_root mkdir -p "$dir" "$(dirname "$logfile")"
        as_root redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
            --dir "$dir" --logfile "$logfile"
    fi
    _dry_run && return 0
    _wait_port "$host" "$port" 15 || die "started redis-server but nothing answers at $host:$port (log: $logfile)"
    log "redis answers at $host:$port"
}

# ---------------------------------------------------------------------------- postgres

_pg_bin() {
    # Newest installed server version's binary dir (Debian layout), e.g. /usr/lib/postgresql/15/bin
    local d
    d="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null | sort -V | tail -n1 || true)"
    [[ -n "$d" ]] || return 1
    dirname "$d"
}

# _psql_try URL SQL: run SQL, print its (unaligned, tuples-only) result; never prompts.
_psql_try() {
    PGCONNECT_TIMEOUT=5 psql -X -w -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>/dev/null
}

# _pg_can_createdb URL: true when URL connects and its role may CREATE DATABASE.
_pg_can_createdb() {
    local out
    out="$(_psql_try "$1" "select rolcreatedb or rolsuper from pg_roles where rolname = current_user")" || return 1
    [[ "$out" == t ]]
}

_pg_start_server() {
    local host="$1" port="$2" line ver cluster cport status found=""
    if [[ -z "$(_pg_bin)" ]]; then
        log "PostgreSQL server not installed; installing it"
        apt_install postgresql
    fi
    if ! command -v pg_lsclusters >/dev/null 2>&1; then
        _dry_run && {
            log "[dry-run] would start the cluster on port $port"
            return 0
        }
        die "pg_lsclusters not found (not a Debian-style PostgreSQL install); start PostgreSQL on $host:$port yourself"
    fi
    while read -r ver cluster cport status _; do
        [[ "$cport" == "$port" ]] || continue
        found=1
        log "starting PostgreSQL cluster $ver/$cluster (port $cport, $status)"
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start ||
            warn "pg_ctlcluster $ver $cluster start failed (see /var/log/postgresql/)"
        break
    done < <(pg_lsclusters -h 2>/dev/null)
    if [[ -z "$found" ]]; then
        line="$(pg_lsclusters -h 2>/dev/null || true)"
        if [[ -n "$line" ]]; then
            die "no PostgreSQL cluster is configured for port $port (clusters: $(pg_lsclusters -h | awk '{printf "%s/%s:%s ", $1, $2, $3}')); set HERALD_PG_PORT"
        fi
        local bindir
        bindir="$(_pg_bin || true)"
        ver=15 # only used as-is in a dry run, where nothing was installed
        [[ -z "$bindir" ]] || ver="$(basename "$(dirname "$bindir")")"
        log "no PostgreSQL cluster exists; creating $ver/main on port $port"
        as_root pg_createcluster --port "$port" "$ver" main
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start
    fi
}

ensure_postgres() {
    local host="${HERALD_PG_HOST:-127.0.0.1}" port="${HERALD_PG_PORT:-5432}"
    local pw="${HERALD_PG_TEST_PASSWORD:-herald-test-only}" url

    if ! command -v psql >/dev/null 2>&1; then
        if [[ -z "$(_pg_bin)" ]] && ! _port_open "$host" "$port"; then
            apt_install postgresql # brings the client too
        else
            apt_install postgresql-client
        fi
    fi

    if [[ -n "${HERALD_TEST_POSTGRES_URL:-}" ]]; then
        _dry_run && return 0
        _pg_can_createdb "$HERALD_TEST_POSTGRES_URL" ||
            die "HERALD_TEST_POSTGRES_URL is set but does not connect as a role that may CREATE DATABASE"
        log "using HERALD_TEST_POSTGRES_URL from the environment"
        export HERALD_TEST_POSTGRES_URL
        return 0
    fi

    if _port_open "$host" "$port"; then
        log "PostgreSQL answers at $host:$port"
    else
        _is_loopback "$host" || die "nothing answers at $host:$port (not a loopback address: not starting anything)"
        log "nothing answers at $host:$port"
        _pg_start_server "$host" "$port"
        if _dry_run; then
            log "[dry-run] would wait for $host:$port, then pick or create a role that may CREATE DATABASE"
            return 0
        fi
        _wait_port "$host" "$port" 60 || die "PostgreSQL was started but nothing answers at $host:$port (see /var/log/postgresql/)"
        log "PostgreSQL answers at $host:$port"
    fi
    # Accepting TCP is not the same as accepting queries (e.g. still starting up).
    if command -v pg_isready >/dev/null 2>&1; then
        local i
        for ((i = 0; i < 60; i++)); do
            pg_isready -q -h "$host" -p "$port" && break
            sleep 0.5
        done
    fi

    # 1. Trust auth (this machine kind's setup): the postgres superuser without password.
    url="postgresql://postgres@${host}:${port}/postgres"
    if _pg_can_createdb "$url"; then
        export HERALD_TEST_POSTGRES_URL="$url"
        log "HERALD_TEST_POSTGRES_URL=$HERALD_TEST_POSTGRES_URL"
        return 0
    fi

    # 2. A `herald` role with a known password, created/updated as the postgres OS user over the
    #    unix socket (peer auth). pg_hba.conf is left alone: Debian's default allows password auth
    #    from 127.0.0.1.
    url="postgresql://herald:${pw}@${host}:${port}/postgres"
    if ! _pg_can_createdb "$url"; then
        log "no trust auth at $host:$port; setting up role 'herald' (CREATEDB) as the postgres OS user"
        need_root_or_sudo "set up the herald role"
        local sql
        sql="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'herald') THEN
    CREATE ROLE herald LOGIN CREATEDB PASSWORD '${pw//\'/\'\'}';
  ELSE
    ALTER ROLE herald LOGIN CREATEDB PASSWORD '${pw//\'/\'\'}';
  END IF;
END \$\$;"
        # cd / so that the postgres user doesn't complain about an unreadable cwd.
        (cd / && as_postgres env -u PGHOST -u PGHOSTADDR -u PGUSER -u PGDATABASE -u PGSERVICE psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres -c "$sql") ||
            die "could not create the herald role as the postgres OS user"
        _dry_run && return 0
        _pg_can_createdb "$url" ||
            die "role 'herald' exists but cannot log in at $host:$port with a password; check pg_hba.conf (host ... 127.0.0.1/32 scram-sha-256 or trust)"
    fi
    export HERALD_TEST_POSTGRES_URL="$url"
    log "HERALD_TEST_POSTGRES_URL=postgresql://herald:***@${host}:${port}/postgres"
}

# ---------------------------------------------------------------------------- node (test tools)

_node_stamp_value() {
    { node --version && cat "$HERALD_ROOT/tests/js/package-lock.json"; } | cksum
}

_ensure_node_tools_locked() {
    local dir="$HERALD_ROOT/tests/js" stamp_file want
    stamp_file="$dir/node_modules/.herald-install-stamp"
    want="$(_node_stamp_value)"
    if [[ "${HERALD_FORCE_INSTALL:-}" != 1 && -f "$stamp_file" && "$(cat "$stamp_file")" == "$want" ]]; then
        log "tests/js/node_modules is up to date"
        return 0
    fi
    log "installing the test suite's node packages: npm ci in tests/js"
    rm -f "$stamp_file"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) ||
        die "npm ci in tests/js failed (see above)"
    printf '%s\n' "$want" >"$stamp_file"
}

# ensure_node_tools: node and npm on PATH (Debian's packages when node is absent), then
# tests/js/node_modules from package-lock.json (mailparser, mailauth: the tests' independent MIME
# parser and DKIM verifier). Serialised with flock like ensure_venv.
ensure_node_tools() {
    if ! command -v node >/dev/null 2>&1; then
        log "node not found; installing it"
        apt_install nodejs npm
    elif ! command -v npm >/dev/null 2>&1; then
        log "npm not found; installing it"
        apt_install npm
    fi
    _dry_run && return 0
    command -v node >/dev/null 2>&1 || die "node still not on PATH after installing nodejs"
    command -v npm >/dev/null 2>&1 || die "npm still not on PATH after installing npm"
    log "node $(node --version): $(command -v node)"
    if command -v flock >/dev/null 2>&1; then
        local lock_id lock_file
        lock_id="$(printf '%s' "$HERALD_ROOT" | cksum | cut -d' ' -f1)"
        lock_file="${TMPDIR:-/tmp}/herald-node-${lock_id}.lock"
        (
            flock -w 900 9 || die "timed out waiting for $lock_file"
            _ensure_node_tools_locked
        ) 9>"$lock_file"
    else
        _ensure_node_tools_locked
    fi
}
