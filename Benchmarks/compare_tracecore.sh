#!/usr/bin/env bash
# compare_tracecore.sh — episodes per second: TraceCore 1.1.3 (the Python reference runtime)
# against Rigor, on the same shape of matrix, in one run. `make bench` calls it after the
# Swift benchmark; it can also be run by hand from anywhere:
#
#     Benchmarks/compare_tracecore.sh
#
# What it measures (every row: 140 episodes, 2 workers, wall clock of the whole command):
#   1. TraceCore: its 7 reference pairings × seeds 0..19 through `tracecore run batch`.
#      TraceCore is installed from PyPI into a cached virtualenv under .build-bench/.
#   2. Rigor with the corresponding 7 Python agents × seeds 0..19, at the default isolation
#      (namespace) and at --isolation process, each as a batch runs them by default (forked
#      from the SDK's warm fork server; at the namespace level a jailed one, namespaces per
#      child) and with --no-fork-server (a fresh interpreter per episode; in bwrap at the
#      namespace level).
#   2b. Rigor on TraceCore's own task folders (`--tasks-dir <site-packages>/tasks`, run through
#      the task SDK) with TraceCore's own 7 reference agents, unmodified, × seeds 0..19, at the
#      process level: worlds and agents forked from warm servers (a batch's default), and with
#      --no-fork-server (a fresh interpreter per world and per agent).
#   3. Rigor with the Swift agent (rigor-swift-agent) on filesystem_hidden_config × seeds
#      0..139, exec'd at both isolation levels, and at the process level from its own fork
#      server (--fork-server).
#   4. A summary table and the targets (≥ 10× TraceCore with Python agents, ≥ 30× with the
#      Swift agent, ≥ 5× on TraceCore's own task folders).
#   5. "Where the time goes": the fixed per-episode costs (interpreter start, bwrap, the Swift
#      agent, one `rigor run` end to end) with hyperfine (or a 50-run bash loop), and Rigor's
#      throughput at 1 worker against 2.
#
# Output: Markdown tables on stdout; progress and diagnostics on stderr.
# Needs the release binaries (`make release`, which `make bench` runs first).
# When TraceCore cannot be installed (no venv, PyPI unreachable...) the Rigor part still
# runs and TraceCore is reported as "not available: <reason>".
#
# Environment knobs (all optional):
#   TRACECORE_VERSION   the TraceCore release to compare against (default 1.1.3)
#   BENCH_WORKERS       workers for the comparison rows (default 2)
#   BENCH_RUNS          runs per command in "Where the time goes" (default 50)
#   BENCH_ONLY          only these comparison rows (labels, space-separated: py-default py-ns-exec
#                       py-process py-process-exec swift-default swift-process swift-fork tc-process
#                       tc-process-exec); the other rows print n/a. BENCH_NO_COSTS=1 skips part 5.
#   BENCH_REPEAT        rounds of the comparison (default 5). A round runs TraceCore once and
#                       then every Rigor row once, so that every row is measured across the same
#                       stretch of time: a shared VM drifts by tens of percent over minutes, and
#                       rows measured one after the other would each catch a different part of the
#                       drift. A row reports its median over the rounds; a target also shows the
#                       ratio of each round (that round's TraceCore time over the row's).

set -euo pipefail

# ---------------------------------------------------------------------------------------
# Paths and settings
# ---------------------------------------------------------------------------------------
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RIGOR="$ROOT/.build/release/rigor"
SWIFT_AGENT="$ROOT/.build/release/rigor-swift-agent"
BENCH_DIR="$ROOT/.build-bench"                 # git-ignored (.build*/)
VENV="$BENCH_DIR/tracecore-venv"
PIP_TARGET_DIR="$BENCH_DIR/tracecore-target"   # fallback when no venv can be made
TC_VERSION="${TRACECORE_VERSION:-1.1.3}"
WORKERS="${BENCH_WORKERS:-2}"
RUNS="${BENCH_RUNS:-50}"
REPEAT="${BENCH_REPEAT:-5}"
SYS_PY=/usr/bin/python3

# The 7 reference pairings, TraceCore's name and Rigor's name side by side. TraceCore's
# agent paths are the ones its own pairings.py uses ("agents/<file>.py"): its loader
# resolves them inside the installed package, whatever the working directory.
TC_PAIRINGS=(
  "agents/toy_agent.py filesystem_hidden_config@1"
  "agents/rate_limit_agent.py rate_limited_api@1"
  "agents/chain_agent.py rate_limited_chain@1"
  "agents/ops_triage_agent.py log_alert_triage@1"
  "agents/log_stream_monitor_agent.py log_stream_monitor@1"
  "agents/runbook_verifier_agent.py runbook_verifier@1"
  "agents/sandboxed_code_auditor_agent.py sandboxed_code_auditor@1"
)
RIGOR_PAIRINGS="toy_filesystem,rate_limit_api,chain_rate_limited,ops_log_alert_triage,log_stream_monitor,runbook_verifier,sandboxed_code_auditor"
PY_SEEDS="0..19"      # 7 pairings × 20 seeds = 140 episodes
SWIFT_SEEDS="0..139"  # 1 pairing × 140 seeds  = 140 episodes

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
# cpu_run VAR CMD...: runs CMD in a cgroup v1 cpuacct group of its own (when this machine has one
# we may write) and sets VAR to the CPU seconds (user + system) of its whole process tree, fork
# servers and their children included; "n/a" without cgroup v1. Wall clock on a shared VM drifts
# with the neighbours' load; CPU seconds much less, so the tables show both.
CPUACCT=/sys/fs/cgroup/cpuacct
cpu_run() {
  local var="$1" g rc=0; shift
  g="$CPUACCT/rigor-bench-$$-$RANDOM"
  if [ -w "$CPUACCT" ] && mkdir "$g" 2>/dev/null; then
    bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$g" "$@" || rc=$?
    printf -v "$var" '%s' "$(awk -v n="$(cat "$g/cpuacct.usage")" 'BEGIN { printf "%.3f", n / 1e9 }')"
    rmdir "$g" 2>/dev/null || true
  else
    "$@" || rc=$?
    printf -v "$var" '%s' "n/a"
  fi
  return $rc
}
# jget FILE EXPR: evaluate a Python expression over the JSON in FILE (bound to d) and print it.
# python3 rather than jq: it is already one of Rigor's system packages.
jget() { "$SYS_PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# Float helpers (awk, so no bc dependency).
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.1f", a / b }'; }
# median: the middle value, or the mean of the two middle ones (an even count of runs).
cpu_median() { # the median of CPU readings, or n/a when there are none (no cgroup v1 here)
  local xs=() x
  for x in "$@"; do [ "$x" = "n/a" ] || xs+=("$x"); done
  if [ "${#xs[@]}" = 0 ]; then echo "n/a"; else median "${xs[@]}"; fi
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.3f–%.3f", lo, hi }'; }
ratio() { # ratio A B -> "12.3×" or "n/a"
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.1f×", a / b }'
}

[ -x "$RIGOR" ] || die "$RIGOR is missing: build it with \`make release\` (make bench does)"
[ -x "$SWIFT_AGENT" ] || die "$SWIFT_AGENT is missing: build it with \`make release\` (make bench does)"
[ -x "$SYS_PY" ] || SYS_PY="$(command -v python3 || true)"
[ -n "$SYS_PY" ] || die "python3 is needed (Rigor's Python agents and this script's JSON parsing use it)"

# Rigor resolves Tasks/, Agents/pairings.json and the SDK relative to the repository.
cd "$ROOT"
mkdir -p "$BENCH_DIR"
# Throughput numbers mean little on a busy machine: note the load when we start and end.
loadavg() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }
LOAD_START="$(loadavg)"
if awk -v l="$LOAD_START" -v n="$(nproc)" 'BEGIN { exit !(l + 0 > n) }'; then
  warn "load average $LOAD_START is above the $(nproc) cores: the numbers below will be noisy"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rigor-compare.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------------------
# apt-get, only as root (or with password-less sudo), and `apt-get update` at most once.
# ---------------------------------------------------------------------------------------
APT_UPDATED=0
apt_install() { # apt_install PACKAGE... ; returns non-zero when it cannot
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else return 1; fi
  fi
  command -v apt-get >/dev/null || return 1
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    $sudo apt-get update -qq >&2 || return 1
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------------------
# 1a. Install TraceCore (cached). Sets TC_CMD (array) or TC_REASON.
# ---------------------------------------------------------------------------------------
TC_CMD=()
TC_REASON=""

tc_version_in() { # tc_version_in PYTHON [PYTHONPATH] -> prints the installed tracecore version
  PYTHONPATH="${2:-}" "$1" -c 'import importlib.metadata as m; print(m.version("tracecore"))' 2>/dev/null
}

make_venv() { # make_venv PYTHON -> 0 when $VENV has a working python afterwards
  local py="$1" out
  [ -x "$py" ] || return 1
  rm -rf "$VENV"
  if out="$("$py" -m venv "$VENV" 2>&1)" && [ -x "$VENV/bin/python" ]; then return 0; fi
  warn "$py -m venv failed: $(printf '%s' "$out" | tail -n 1)"
  rm -rf "$VENV"
  # Debian's python3 ships without ensurepip until python3-venv is installed.
  if printf '%s' "$out" | grep -qi 'ensurepip'; then
    if apt_install python3-venv && "$py" -m venv "$VENV" >/dev/null 2>&1 && [ -x "$VENV/bin/python" ]; then
      return 0
    fi
    rm -rf "$VENV"
  fi
  return 1
}

setup_tracecore() {
  # Cached: the venv already holds the right version.
  if [ -x "$VENV/bin/python" ] && [ "$(tc_version_in "$VENV/bin/python")" = "$TC_VERSION" ]; then
    log "TraceCore $TC_VERSION: cached in $VENV"
    TC_CMD=("$VENV/bin/python" -m agent_bench.cli)
    return 0
  fi
  # Cached in the --target fallback.
  if [ -d "$PIP_TARGET_DIR" ] && [ "$(tc_version_in "$SYS_PY" "$PIP_TARGET_DIR")" = "$TC_VERSION" ]; then
    log "TraceCore $TC_VERSION: cached in $PIP_TARGET_DIR"
    TC_CMD=(env "PYTHONPATH=$PIP_TARGET_DIR" "$SYS_PY" -m agent_bench.cli)
    return 0
  fi

  local pip_out
  # A venv made by /usr/bin/python3, else by the python3 on PATH (pyenv and the like).
  if [ -x "$VENV/bin/python" ] || make_venv /usr/bin/python3 || make_venv "$(command -v python3 || echo /nonexistent)"; then
    log "pip install tracecore==$TC_VERSION into $VENV"
    if pip_out="$("$VENV/bin/python" -m pip install --disable-pip-version-check -q --timeout 30 "tracecore==$TC_VERSION" 2>&1)" \
       && [ "$(tc_version_in "$VENV/bin/python")" = "$TC_VERSION" ]; then
      TC_CMD=("$VENV/bin/python" -m agent_bench.cli)
      return 0
    fi
    TC_REASON="pip install tracecore==$TC_VERSION failed (is PyPI reachable?): $(printf '%s' "$pip_out" | grep -v '^\s*$' | tail -n 1)"
    return 1
  fi

  # No venv possible: plain pip into a private folder (skips PEP 668's externally-managed check).
  log "no virtualenv possible; trying python3 -m pip install --target $PIP_TARGET_DIR"
  if ! "$SYS_PY" -m pip --version >/dev/null 2>&1; then
    TC_REASON="cannot create a virtualenv (python3 -m venv failed, python3-venv not installable) and python3 has no pip"
    return 1
  fi
  if pip_out="$("$SYS_PY" -m pip install --disable-pip-version-check -q --timeout 30 --target "$PIP_TARGET_DIR" "tracecore==$TC_VERSION" 2>&1)" \
     && [ "$(tc_version_in "$SYS_PY" "$PIP_TARGET_DIR")" = "$TC_VERSION" ]; then
    TC_CMD=(env "PYTHONPATH=$PIP_TARGET_DIR" "$SYS_PY" -m agent_bench.cli)
    return 0
  fi
  TC_REASON="pip install --target tracecore==$TC_VERSION failed (is PyPI reachable?): $(printf '%s' "$pip_out" | grep -v '^\s*$' | tail -n 1)"
  return 1
}

# ---------------------------------------------------------------------------------------
# 1b. TraceCore's batch: prepare_tracecore writes its batch file, tracecore_once runs it once (in
# the rounds below), tracecore_result sets TC_PASSED TC_SECONDS TC_SPREAD TC_EPS from the runs.
# ---------------------------------------------------------------------------------------
TC_EPISODES="n/a"; TC_PASSED="n/a"; TC_SECONDS="n/a"; TC_EPS="n/a"; TC_SUMMARY=""; TC_SPREAD=""

prepare_tracecore() { # writes TraceCore's batch file (the runs are in the rounds below)
  # Its own working directory: TraceCore writes every run to ./.agent_bench/runs, and its
  # agent loader tries "agents/x.py" relative to the cwd first (then inside the package).
  # An empty directory keeps the repository clean and makes it load its packaged agents.
  local cwd="$WORK/tracecore-cwd" batch="$WORK/tracecore-batch.json" out="$WORK/tracecore.log"
  mkdir -p "$cwd"
  {
    printf '['
    local first=1 p agent task seed
    for p in "${TC_PAIRINGS[@]}"; do
      agent="${p% *}"; task="${p#* }"
      for seed in $(seq 0 19); do
        [ "$first" = 1 ] && first=0 || printf ','
        printf '\n  {"agent": "%s", "task_ref": "%s", "seed": %d}' "$agent" "$task" "$seed"
      done
    done
    printf '\n]\n'
  } >"$batch"
  TC_EPISODES="$(( ${#TC_PAIRINGS[@]} * 20 ))"
  TC_BATCH="$batch"; TC_CWD="$cwd"; TC_OUT="$out"
}

TC_TIMES=()
TC_CPUS=()
TC_FAILED=0
tracecore_once() { # one run of TraceCore's batch: appends its wall clock to TC_TIMES
  local round="$1" t0 t1 rc=0
  [ "$TC_FAILED" = 0 ] || return 0   # a failing run is reported below, not repeated
  log "TraceCore: run batch, $TC_EPISODES jobs, --workers $WORKERS (round $round of $REPEAT)"
  rm -rf "$TC_CWD/.agent_bench"
  sync   # the clean-up is flushed now, not by whichever runtime flushes next (see rigor_once)
  t0="$(now)"
  # No per-job --timeout: TraceCore would then run each job through a different, slower path
  # (run_isolated); the whole command gets a generous limit instead.
  local cpu
  (cd "$TC_CWD" || exit 1; r=0; NO_COLOR=1 TERM=dumb COLUMNS=200 cpu_run cpu timeout 900 "${TC_CMD[@]}" run batch --batch-file "$TC_BATCH" --workers "$WORKERS" || r=$?
   echo "$cpu" >"$WORK/tc-cpu"; exit $r) \
    >"$TC_OUT" 2>&1 </dev/null || rc=$?
  TC_CPUS+=("$(cat "$WORK/tc-cpu" 2>/dev/null || echo n/a)")
  t1="$(now)"
  TC_TIMES+=("$(fsub "$t1" "$t0")")
  TC_RC="$rc"
  grep -Eq 'passed=[0-9]+ +failed=0' "$TC_OUT" || TC_FAILED=1
}

tracecore_result() { # after the rounds: sets TC_SECONDS, TC_EPS...; non-zero when it is no baseline
  local out="$TC_OUT" rc="${TC_RC:-?}"
  TC_SECONDS="$(median "${TC_TIMES[@]}")"
  TC_CPU="$(cpu_median "${TC_CPUS[@]}")"
  TC_SPREAD="$(spread "${TC_TIMES[@]}")"

  # TraceCore's last word: "Summary  passed=N  failed=M  p50=...s  p95=...s".
  local summary
  summary="$(grep -Eo 'passed=[0-9]+ +failed=[0-9]+' "$out" | tail -n 1 || true)"
  if [ -z "$summary" ]; then
    TC_REASON="tracecore run batch gave no summary (exit $rc): $(grep -v '^\s*$' "$out" | tail -n 1)"
    TC_PASSED="n/a"; TC_EPS="n/a"
    return 1
  fi
  TC_PASSED="$(sed -E 's/passed=([0-9]+).*/\1/' <<<"$summary")"
  TC_SUMMARY="$(grep -E 'Summary' "$out" | tail -n 1 | sed -E 's/ +/ /g' || true)"
  local failed; failed="$(sed -E 's/.*failed=([0-9]+)/\1/' <<<"$summary")"
  TC_EPS="$(fdiv "$TC_EPISODES" "$TC_SECONDS")"
  log "TraceCore: passed=$TC_PASSED failed=$failed, median ${TC_SECONDS}s (exit $rc)"
  if [ "$failed" != 0 ] || [ "$TC_PASSED" != "$TC_EPISODES" ]; then
    # A fast failing run is no comparison: show what failed, keep the numbers but flag them.
    warn "TraceCore: $failed of $TC_EPISODES jobs failed — its rate is not a valid baseline. Failing rows:"
    grep -E 'fail' "$out" | head -n 10 >&2 || true
    TC_REASON="only $TC_PASSED/$TC_EPISODES TraceCore episodes passed"
    return 1
  fi
  return 0
}

TC_INSTALLED=0
if setup_tracecore; then
  prepare_tracecore
  TC_INSTALLED=1
fi

# ---------------------------------------------------------------------------------------
# 2–3. Rigor batches. rigor_once LABEL ROUND ARGS... runs one batch and keeps its wall clock
# (same method as TraceCore) and Rigor's own episodes_per_second (which leaves out process
# start and the summary); rigor_result LABEL then sets R_TOTAL R_PASSED R_SECONDS R_SPREAD
# R_EPS R_JSON_EPS from the median of the runs.
# ---------------------------------------------------------------------------------------
declare -A R_TIMES=() R_JEPS=() R_FAILED=() R_CPUS=()
rigor_once() {
  local label="$1" round="$2"; shift 2
  local state="$WORK/state-$label" out="$WORK/rigor-$label.json" t0 t1 rc=0
  [ -z "${R_FAILED[$label]:-}" ] || return 0   # a failing row is reported once, not repeated
  rm -rf "$state"
  # Flushed before the clock starts: a batch makes its artifacts durable with one syncfs at
  # its end, which would otherwise also write out the deletion of the last round's ~300 files
  # (measured: 4 ms usually, up to 90 ms); TraceCore never flushes. Neither pays for clean-up.
  sync
  log "Rigor: $label (round $round of $REPEAT)"
  t0="$(now)"
  local cpu
  cpu_run cpu "$RIGOR" batch "$@" --json --state-dir "$state" >"$out" 2>"$WORK/rigor-$label.err" </dev/null || rc=$?
  t1="$(now)"
  R_CPUS[$label]+=" $cpu"
  if ! jget "$out" 'd["total"]' >/dev/null 2>&1; then
    R_FAILED[$label]="exit $rc: $(tail -n 3 "$WORK/rigor-$label.err")"
    return 0
  fi
  R_TIMES[$label]+=" $(fsub "$t1" "$t0")"
  R_JEPS[$label]+=" $(jget "$out" '"%.1f" % d["episodes_per_second"]')"
}

rigor_result() {
  local label="$1" out="$WORK/rigor-$label.json"
  if [ -n "${R_FAILED[$label]:-}" ] || [ -z "${R_TIMES[$label]:-}" ]; then
    [ -n "${R_FAILED[$label]:-}" ] && warn "rigor batch ($label) failed (${R_FAILED[$label]})"
    R_TOTAL="n/a"; R_PASSED="n/a"; R_SECONDS="n/a"; R_EPS="n/a"; R_JSON_EPS="n/a"; R_SPREAD=""; R_CPU="n/a"
    return 0
  fi
  # shellcheck disable=SC2086  # the lists are space-separated numbers
  R_SECONDS="$(median ${R_TIMES[$label]})"
  # shellcheck disable=SC2086
  R_CPU="$(cpu_median ${R_CPUS[$label]:-})"
  # shellcheck disable=SC2086
  R_SPREAD="$(spread ${R_TIMES[$label]})"
  # shellcheck disable=SC2086
  R_JSON_EPS="$(median ${R_JEPS[$label]})"
  R_TOTAL="$(jget "$out" 'd["total"]')"
  R_PASSED="$(jget "$out" 'd["passed"]')"
  R_EPS="$(fdiv "$R_TOTAL" "$R_SECONDS")"
  if [ "$R_PASSED" != "$R_TOTAL" ]; then
    warn "rigor batch ($label): only $R_PASSED/$R_TOTAL passed; failures by type: $(jget "$out" 'json.dumps(d.get("failed_by_type"))')"
  fi
}

rigor_batch() { # rigor_batch LABEL ARGS...: REPEAT runs in a row, then rigor_result
  local label="$1" round; shift
  for ((round = 1; round <= REPEAT; round++)); do rigor_once "$label" "$round" "$@"; done
  rigor_result "$label"
}

# round_ratios LABEL -> each round's TraceCore seconds over the row's, "11.2 11.8 ..." (episodes
# are 140 on both sides), or nothing without a TraceCore baseline.
round_ratios() {
  [ "$TC_OK" = 1 ] || return 0
  # shellcheck disable=SC2086
  paste -d' ' <(printf '%s\n' "${TC_TIMES[@]}") <(printf '%s\n' ${R_TIMES[$1]:-}) \
    | awk 'NF == 2 && $2 > 0 { printf "%s%.1f", (n++ ? " " : ""), $1 / $2 }'
}

# Which isolation the default gives on this machine (namespace when bwrap works, else process).
"$RIGOR" run --agent "$SWIFT_AGENT" --task filesystem_hidden_config@1 --seed 0 \
  --json --state-dir "$WORK/probe" </dev/null >"$WORK/probe.json" 2>/dev/null || true
DEFAULT_ISOLATION="$(jget "$WORK/probe.json" 'd.get("isolation", "unknown")' 2>/dev/null || echo unknown)"
[ "$DEFAULT_ISOLATION" = namespace ] || warn "default isolation here is '$DEFAULT_ISOLATION', not namespace (is bwrap usable?)"

SWIFT_PAIRINGS_FILE="$WORK/swift-pairings.json"
printf '[{"name":"swift_filesystem","agent":"%s","task":"filesystem_hidden_config@1"}]\n' "$SWIFT_AGENT" >"$SWIFT_PAIRINGS_FILE"

# TraceCore's own task folders and reference agents, as `pip install tracecore` puts them in
# site-packages. The agents are copied beside a copy of the task folders (the runbook agent
# imports tasks.runbook_verifier.shared from its own folder), byte for byte.
TC_FOLDERS_OK=0
if [ "$TC_INSTALLED" = 1 ]; then
  TC_SITE="$("${TC_CMD[@]:0:${#TC_CMD[@]}-2}" -c 'import agent_bench, os; print(os.path.dirname(os.path.dirname(agent_bench.__file__)))' 2>/dev/null || true)"
  if [ -n "$TC_SITE" ] && [ -d "$TC_SITE/tasks" ]; then
    TC_AGENTS="$WORK/tc-agents"
    mkdir -p "$TC_AGENTS" && cp -r "$TC_SITE/tasks" "$TC_AGENTS/tasks"
    {
      printf '['
      first=1
      for p in "${TC_PAIRINGS[@]}"; do
        agent="${p% *}"; agent="${agent#agents/}"; task="${p#* }"
        cp "$TC_SITE/agent_bench/agents/$agent" "$TC_AGENTS/$agent"
        [ "$first" = 1 ] && first=0 || printf ','
        printf '\n  {"name": "tc_%s", "agent": "%s", "task": "%s"}' "${agent%.py}" "$TC_AGENTS/$agent" "$task"
      done
      printf '\n]\n'
    } >"$WORK/tc-pairings.json"
    chmod -R a+rX "$WORK"
    TC_FOLDERS_OK=1
  else
    warn "TraceCore's task folders not found in its site-packages; the task-folder rows are skipped"
  fi
fi

ROWS=()   # "runtime|agents|episodes|passed|seconds|eps|json_eps" for the summary table
add_row() { ROWS+=("$1|$2|$R_TOTAL|$R_PASSED|$R_SECONDS|$R_SPREAD|$R_EPS|$R_JSON_EPS|$R_CPU"); }

# The rows, in the order of the table. Every round runs TraceCore once, then each row once.
ROW_LABELS=(py-default py-ns-exec py-process py-process-exec swift-default swift-process swift-fork)
[ "$TC_FOLDERS_OK" = 1 ] && ROW_LABELS+=(tc-process tc-process-exec)
if [ -n "${BENCH_ONLY:-}" ]; then
  read -r -a ROW_LABELS <<<"$BENCH_ONLY"
fi
row_once() { # row_once LABEL ROUND
  local py=(--pairings "$RIGOR_PAIRINGS" --seeds "$PY_SEEDS" --workers "$WORKERS")
  local sw=(--pairings-file "$SWIFT_PAIRINGS_FILE" --pairings swift_filesystem --seeds "$SWIFT_SEEDS" --workers "$WORKERS")
  local tc=(--pairings-file "$WORK/tc-pairings.json" --pairings all --tasks-dir "${TC_SITE:-}/tasks" --seeds "$PY_SEEDS" --workers "$WORKERS")
  case "$1" in
    py-default) rigor_once "$1" "$2" "${py[@]}" ;;
    py-ns-exec) rigor_once "$1" "$2" "${py[@]}" --no-fork-server ;;
    py-process) rigor_once "$1" "$2" "${py[@]}" --isolation process ;;
    py-process-exec) rigor_once "$1" "$2" "${py[@]}" --isolation process --no-fork-server ;;
    swift-default) rigor_once "$1" "$2" "${sw[@]}" ;;
    swift-process) rigor_once "$1" "$2" "${sw[@]}" --isolation process ;;
    swift-fork) rigor_once "$1" "$2" "${sw[@]}" --isolation process --fork-server ;;
    tc-process) rigor_once "$1" "$2" "${tc[@]}" --isolation process ;;
    tc-process-exec) rigor_once "$1" "$2" "${tc[@]}" --isolation process --no-fork-server ;;
  esac
}
for ((round = 1; round <= REPEAT; round++)); do
  [ "$TC_INSTALLED" = 1 ] && tracecore_once "$round"
  for label in "${ROW_LABELS[@]}"; do row_once "$label" "$round"; done
done

TC_OK=0
if [ "$TC_INSTALLED" = 1 ] && tracecore_result; then TC_OK=1; fi
[ "$TC_OK" = 1 ] || warn "TraceCore not available: $TC_REASON"
TC_REASON="${TC_REASON//|//}"   # it goes into a Markdown table cell

rigor_result py-default
add_row "Rigor ($DEFAULT_ISOLATION, default: forked from the SDK's server)" "Python (7 pairings)"; PY_NS_EPS="$R_EPS"; PY_NS_W2="$R_JSON_EPS"
rigor_result py-ns-exec
add_row "Rigor ($DEFAULT_ISOLATION, --no-fork-server)" "Python (7 pairings)"; PY_NSX_EPS="$R_EPS"
rigor_result py-process
add_row "Rigor (process, forked from the SDK's server)" "Python (7 pairings)"; PY_PR_EPS="$R_EPS"
rigor_result py-process-exec
add_row "Rigor (process, --no-fork-server)" "Python (7 pairings)"; PY_PRX_EPS="$R_EPS"
TC_PR_EPS="n/a"; TC_PRX_EPS="n/a"
if [ "$TC_FOLDERS_OK" = 1 ]; then
  rigor_result tc-process
  add_row "Rigor (process, worlds and agents forked from warm servers)" "TraceCore's task folders + agents"; TC_PR_EPS="$R_EPS"
  rigor_result tc-process-exec
  add_row "Rigor (process, --no-fork-server)" "TraceCore's task folders + agents"; TC_PRX_EPS="$R_EPS"
fi
rigor_result swift-default
add_row "Rigor ($DEFAULT_ISOLATION, default: exec'd)" "Swift (toy, filesystem)"; SW_NS_EPS="$R_EPS"; SW_NS_W2="$R_JSON_EPS"
rigor_result swift-process
add_row "Rigor (process, exec'd)" "Swift (toy, filesystem)"; SW_PR_EPS="$R_EPS"
rigor_result swift-fork
add_row "Rigor (process, --fork-server: its own server)" "Swift (toy, filesystem)"; SW_FS_EPS="$R_EPS"

# ---------------------------------------------------------------------------------------
# 4. The comparison table and the targets.
# ---------------------------------------------------------------------------------------
echo
echo "## Rigor vs TraceCore $TC_VERSION — episodes per second"
echo
echo "Same matrix shape for every row: 140 episodes, $WORKERS workers, $(nproc) cores;"
echo "1-minute load average $LOAD_START when the script started, $(loadavg) now."
echo "\`seconds\` is the wall clock of the whole command (process start to exit), the median of $REPEAT rounds"
echo "(\`range\`: the fastest and the slowest), for every row, TraceCore's included. A round runs TraceCore"
echo "once, then every Rigor row once, so that all rows share the same stretch of the machine's drift;"
echo "\`rigor's own eps/s\` is the \`episodes_per_second\` Rigor reports in its JSON (episode loop only)."
echo "\`CPU s\`: user + system seconds of the whole process tree (a cgroup v1 cpuacct group per run), the"
echo "median over the rounds; it moves far less than wall clock with the neighbours' load on a shared VM."
echo
echo "| runtime | agents | episodes | passed | seconds | range | episodes/s | × TraceCore | rigor's own eps/s | CPU s | × TraceCore (CPU) |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
if [ "$TC_OK" = 1 ]; then
  echo "| TraceCore $TC_VERSION | Python (7 reference pairings) | $TC_EPISODES | $TC_PASSED | $TC_SECONDS | $TC_SPREAD | $TC_EPS | 1.0× | — | ${TC_CPU:-n/a} | 1.0× |"
elif [ "$TC_EPS" != "n/a" ]; then
  echo "| TraceCore $TC_VERSION (**invalid: $TC_REASON**) | Python (7 reference pairings) | $TC_EPISODES | $TC_PASSED | $TC_SECONDS | $TC_SPREAD | $TC_EPS | — | — | ${TC_CPU:-n/a} | — |"
else
  echo "| TraceCore $TC_VERSION | not available: $TC_REASON | — | — | — | — | — | — | — | — | — |"
fi
BASE="n/a"; [ "$TC_OK" = 1 ] && BASE="$TC_EPS"
for row in "${ROWS[@]}"; do
  IFS='|' read -r rt ag n pass secs range eps jeps cpu <<<"$row"
  CPU_BASE="n/a"; [ "$TC_OK" = 1 ] && CPU_BASE="${TC_CPU:-n/a}"
  echo "| $rt | $ag | $n | $pass | $secs | $range | $eps | $(ratio "$eps" "$BASE") | $jeps | $cpu | $(ratio "$CPU_BASE" "$cpu") |"
done

if [ -n "$TC_SUMMARY" ]; then
  echo
  echo "TraceCore's own last line (per-job wall clock, in its worker processes): \`$TC_SUMMARY\`"
fi

target_line() { # target_line DESCRIPTION LABEL EPS FACTOR
  local r verdict
  r="$(ratio "$3" "$BASE")"
  if [ "$r" = "n/a" ]; then verdict="unknown (no TraceCore baseline)"
  elif awk -v a="$3" -v b="$BASE" -v f="$4" 'BEGIN { exit !(a / b >= f) }'; then verdict="**met**"
  else verdict="**not met**"; fi
  echo "| $1 | ≥ $4× | $r | $(round_ratios "$2") | $verdict |"
}
other_line() { # other_line DESCRIPTION LABEL EPS
  echo "| $1 | $(ratio "$3" "$BASE") | $(round_ratios "$2") |"
}
echo
echo "### Targets"
echo
echo "TraceCore runs each agent inside its own worker process, with no isolation at all. The like-for-like"
echo "rows are Rigor's process level: each episode still gets a fresh process of its own, its own uid"
echo "(when run as root), rlimits, a private directory and a pinned environment."
echo
echo "| target | needs | measured (medians) | each round | verdict |"
echo "|---|---:|---:|---|---|"
target_line "Python agents (7 pairings), process, forked from the SDK's server" py-process "$PY_PR_EPS" 10
target_line "Swift agent on filesystem_hidden_config, process, its own fork server" swift-fork "$SW_FS_EPS" 30
target_line "TraceCore's 7 pairings on TraceCore's own task folders, process, forked" tc-process "$TC_PR_EPS" 5
echo
echo "The other rows, for reference: Rigor at isolation TraceCore does not have (the namespace level:"
echo "a read-only system, no network, fresh mount, network, IPC and UTS namespaces per episode), or"
echo "without its fork servers (a fresh interpreter or binary per episode):"
echo
echo "| row | × TraceCore (medians) | each round |"
echo "|---|---:|---|"
other_line "Python agents, $DEFAULT_ISOLATION (the default), forked" py-default "$PY_NS_EPS"
other_line "Python agents, $DEFAULT_ISOLATION, --no-fork-server" py-ns-exec "$PY_NSX_EPS"
other_line "Python agents, process, --no-fork-server" py-process-exec "$PY_PRX_EPS"
other_line "Swift agent, $DEFAULT_ISOLATION (the default), exec'd" swift-default "$SW_NS_EPS"
other_line "Swift agent, process, exec'd" swift-process "$SW_PR_EPS"
other_line "TraceCore's task folders + agents, process, --no-fork-server" tc-process-exec "$TC_PRX_EPS"

# ---------------------------------------------------------------------------------------
# 5. Where the time goes: fixed per-episode costs.
# ---------------------------------------------------------------------------------------
[ "${BENCH_NO_COSTS:-0}" = 1 ] && exit 0
if ! command -v hyperfine >/dev/null; then
  apt_install hyperfine || warn "hyperfine not installed and not installable; falling back to a bash loop of $RUNS runs"
fi

# The bwrap command line Rigor builds for an agent (Sources/RigorAgentHost/Isolation.swift),
# minus the agent's own bind mounts.
BWRAP="$(command -v bwrap || true)"
BWRAP_ARGS="--unshare-all --die-with-parent --new-session --ro-bind /usr /usr --ro-bind /etc /etc --proc /proc --dev /dev --tmpfs /tmp"
for l in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$l" ]; then BWRAP_ARGS+=" --symlink $(readlink "/$l") /$l"
  elif [ -e "/$l" ]; then BWRAP_ARGS+=" --ro-bind /$l /$l"; fi
done

SDK="$ROOT/Agents/sdk"
E2E_STATE="$WORK/e2e"
# "label|command" — every command runs with stdin at /dev/null and output discarded.
COSTS=(
  "python3 start|$SYS_PY -s -B -c pass"
  "python3 start + import json|$SYS_PY -s -B -c 'import sys, json'"
  "python3 + Rigor SDK import|$SYS_PY -s -B -c 'import sys; sys.path.insert(0, \"$SDK\"); import rigor_sdk'"
  "python3 + run_agent.py toy_agent.py (EOF at once)|$SYS_PY -s -B $SDK/run_agent.py $ROOT/Agents/toy_agent.py"
)
if [ -n "$BWRAP" ]; then
  COSTS+=("bwrap (Rigor's namespace jail) /bin/true|$BWRAP $BWRAP_ARGS /bin/true")
  COSTS+=("bwrap + python3 start|$BWRAP $BWRAP_ARGS $SYS_PY -s -B -c pass")
fi
COSTS+=(
  "Swift agent start (stdin /dev/null)|$SWIFT_AGENT"
  "rigor start (rigor version)|$RIGOR version"
  "rigor run, toy_agent.py, $DEFAULT_ISOLATION (exec'd)|$RIGOR run --agent Agents/toy_agent.py --task filesystem_hidden_config@1 --seed 42 --state-dir $E2E_STATE"
  "rigor run, toy_agent.py, process|$RIGOR run --agent Agents/toy_agent.py --task filesystem_hidden_config@1 --seed 42 --isolation process --state-dir $E2E_STATE"
  "rigor run, Swift agent, $DEFAULT_ISOLATION|$RIGOR run --agent $SWIFT_AGENT --task filesystem_hidden_config@1 --seed 42 --state-dir $E2E_STATE"
  "rigor run, Swift agent, process|$RIGOR run --agent $SWIFT_AGENT --task filesystem_hidden_config@1 --seed 42 --isolation process --state-dir $E2E_STATE"
  "rigor batch of 2 episodes, Swift agent, process + fork server (a batch's fixed cost)|$RIGOR batch --pairings-file $SWIFT_PAIRINGS_FILE --pairings swift_filesystem --seeds 0..1 --isolation process --fork-server --json --state-dir $E2E_STATE"
)

measure() { # measure COMMAND -> prints "mean_ms ± sd_ms"
  local cmd="$1"
  if command -v hyperfine >/dev/null; then
    local j="$WORK/hf.json"
    # -N: no intermediate shell (hyperfine ≥ 1.13); stdin of the command is /dev/null.
    if hyperfine -N --warmup 3 --runs "$RUNS" -i --style none --export-json "$j" "$cmd" </dev/null >/dev/null 2>&1 \
       || hyperfine --warmup 3 --runs "$RUNS" -i --style none --export-json "$j" "$cmd </dev/null" </dev/null >/dev/null 2>&1; then
      jget "$j" '"%.2f ± %.2f" % (d["results"][0]["mean"] * 1000, (d["results"][0]["stddev"] or 0) * 1000)'
      return
    fi
    echo "failed"
    return
  fi
  # Fallback: $RUNS runs in a loop, mean only. eval forks the command directly (no extra shell).
  local t0 t1 i
  eval "$cmd" </dev/null >/dev/null 2>&1 || true   # warm-up
  t0="$(now)"
  for ((i = 0; i < RUNS; i++)); do eval "$cmd" </dev/null >/dev/null 2>&1 || true; done
  t1="$(now)"
  awk -v a="$t0" -v b="$t1" -v n="$RUNS" 'BEGIN { printf "%.2f (loop mean)", (b - a) * 1000 / n }'
}

echo
echo "## Where the time goes"
echo
if command -v hyperfine >/dev/null; then
  echo "Per-process fixed costs, $(hyperfine --version), $RUNS runs after 3 warm-ups (mean ± σ, ms):"
else
  echo "Per-process fixed costs, bash loop of $RUNS runs (mean, ms; hyperfine unavailable):"
fi
echo
echo "| what | ms |"
echo "|---|---:|"
for c in "${COSTS[@]}"; do
  label="${c%%|*}"; cmd="${c#*|}"
  log "measuring: $label"
  echo "| $label | $(measure "$cmd") |"
done

# Rigor-level split: the same matrices at 1 worker, against the 2-worker rows above.
rigor_batch py-w1 --pairings "$RIGOR_PAIRINGS" --seeds "$PY_SEEDS" --workers 1
PY_W1="$R_JSON_EPS"
rigor_batch swift-w1 --pairings-file "$SWIFT_PAIRINGS_FILE" --pairings swift_filesystem --seeds "$SWIFT_SEEDS" --workers 1
SW_W1="$R_JSON_EPS"
ms_per() { awk -v e="$1" 'BEGIN { if (e == "n/a" || e + 0 == 0) print "n/a"; else printf "%.2f", 1000 / e }'; }
echo
echo "Rigor's own episodes/s (JSON \`episodes_per_second\`), $DEFAULT_ISOLATION isolation (defaults: Python forked, Swift exec'd), 1 worker against $WORKERS:"
echo
echo "| matrix | 1 worker eps/s | ms/episode | $WORKERS workers eps/s | ms/episode | speed-up |"
echo "|---|---:|---:|---:|---:|---:|"
echo "| 7 Python pairings × 20 seeds | $PY_W1 | $(ms_per "$PY_W1") | $PY_NS_W2 | $(ms_per "$PY_NS_W2") | $(ratio "$PY_NS_W2" "$PY_W1") |"
echo "| Swift agent × 140 seeds | $SW_W1 | $(ms_per "$SW_W1") | $SW_NS_W2 | $(ms_per "$SW_NS_W2") | $(ratio "$SW_NS_W2" "$SW_W1") |"
echo
