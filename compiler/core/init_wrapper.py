"""The programs envc puts into the image besides the user's own (a lowering decision, kept apart
because each is a program of its own):

- WRAPPER, ``/opt/envc/bin/envc-init``: the ENTRYPOINT. Conda activation, init.setup once per
  node, init.run in every process, then the command.
- ACTIVATE, ``/opt/envc/bin/envc-activate``: conda's activation of ``$CONDA_PREFIX`` (package
  env vars, ``conda-meta/state`` env vars, ``activate.d`` scripts), sourced by the wrapper and by
  any build step that needs the environment active.

Both are POSIX sh (dash is the reference), so they need no Python in the image.
"""
from envc.common import image_paths as paths

# How long ranks other than local rank 0 wait for init.setup before giving up, in seconds,
# when ENVC_SETUP_TIMEOUT is not set (0 = wait forever). One hour: setup on a real cluster
# legitimately downloads datasets or model weights, or builds extensions, for tens of minutes,
# and a timeout that fires on a healthy job throws the job away; past an hour, a setup that
# neither finished nor failed is almost surely dead or hung, and the waiting ranks should stop
# holding the allocation. Dead: rank 0's wrapper itself SIGKILLed (the OOM killer picks a process,
# not the node), under a launcher that lets the other ranks run on (srun with Slurm's default
# KillOnBadExit=0 and WaitTime=0; mpirun --enable-recovery); plain mpirun and torchrun kill them.
SETUP_TIMEOUT_DEFAULT = 3600
SETUP_TIMEOUT_EXIT = 124  # as timeout(1); setup failing on rank 0 stays 1 on the other ranks

# The node-local rank, from the first of these that is set and not empty (else 0). Innermost
# launcher first: a process inherits the variables of every launcher above it, so SLURM_LOCALID
# (0 for the single mpirun / mpiexec that sbatch runs) comes last, after the MPI launchers that
# may run under Slurm.
LOCAL_RANK_VARIABLES = (
    "LOCAL_RANK",                  # torchrun / torch elastic, DeepSpeed, accelerate
    "OMPI_COMM_WORLD_LOCAL_RANK",  # Open MPI mpirun / prterun
    "MPI_LOCALRANKID",             # MPICH Hydra, Intel MPI, ParaStation mpiexec
    "MV2_COMM_WORLD_LOCAL_RANK",   # MVAPICH2 mpirun_rsh
    "PALS_LOCAL_RANKID",           # HPE Cray PALS mpiexec (PBS)
    "PMI_LOCAL_RANK",              # Cray PMI and other PMI launchers
    "MPT_LRANK",                   # HPE (SGI) MPT mpiexec_mpt
    "JSM_NAMESPACE_LOCAL_RANK",    # IBM jsrun (LSF)
    "FLUX_TASK_LOCAL_ID",          # Flux
    "SLURM_LOCALID",               # Slurm srun
)
_RANK = "".join("${" + name + ":-" for name in LOCAL_RANK_VARIABLES) + "0" + "}" * len(LOCAL_RANK_VARIABLES)

# Azure ML's aml_wrapper.py, as a POSIX sh script with no Python needed: setup runs once
# per node (local rank 0) while the other ranks wait, at most ENVC_SETUP_TIMEOUT seconds; a
# failed setup stops every rank instead of letting them run on a half-prepared node; run is
# sourced so its exports reach the command, which then replaces the shell (signals reach it
# directly). Conda activation comes first, so setup, run and the command all see it. With no
# command (an ENTRYPOINT replaces the base image's CMD), it starts a shell, as most bases' CMD does.
# Markers are per launch (the launcher's job id, else the parent process and its start
# time), so a second launch in the same container never trusts the previous one's.
WRAPPER = r"""#!/bin/sh
# envc init wrapper: conda activation, init.setup once per node, init.run in every process, then the command.
set -e
if [ -f @ACTIVATE@ ]; then . @ACTIVATE@; fi
if [ -f @SETUP_SCRIPT@ ]; then
  timeout=${ENVC_SETUP_TIMEOUT:-@TIMEOUT@}
  case $timeout in *[!0-9]*) timeout=x ;; esac
  timeout=${timeout#"${timeout%%[!0]*}"}
  if [ "${#timeout}" -gt 9 ] || [ "$timeout" = x ]; then
    echo "envc-init: ENVC_SETUP_TIMEOUT must be a whole number of seconds below 10^9 (0 = wait forever), not '$ENVC_SETUP_TIMEOUT'" >&2
    exit 2
  fi
  rank=@RANK@
  launch=${ENVC_LAUNCH_ID:-${TORCHELASTIC_RUN_ID:+$TORCHELASTIC_RUN_ID.${TORCHELASTIC_RESTART_COUNT:-0}}}
  launch=${launch:-${PMIX_NAMESPACE:-${OMPI_MCA_ess_base_jobid:-${SLURM_JOB_ID:+$SLURM_JOB_ID.${SLURM_STEP_ID:-0}}}}}
  if [ -z "$launch" ]; then launch=$PPID.$(sed "s/.*) //" "/proc/$PPID/stat" 2>/dev/null | cut -d" " -f20); fi
  marker=${ENVC_SETUP_MARKER:-@SETUP_MARKER@}.$(printf "%s" "$launch" | tr -c "A-Za-z0-9._-" "_")
  if [ "$rank" = 0 ]; then
    rm -f "$marker.done" "$marker.failed"
    if sh @SETUP_SCRIPT@; then touch "$marker.done"; else status=$?; touch "$marker.failed"; exit "$status"; fi
  else
    if [ -n "$timeout" ]; then deadline=$(($(date +%s) + timeout)); fi
    while [ ! -e "$marker.done" ]; do
      if [ -e "$marker.failed" ]; then echo "envc-init: init.setup failed on local rank 0" >&2; exit 1; fi
      if [ -n "$timeout" ] && [ "$(date +%s)" -gt "$deadline" ]; then
        echo "envc-init: local rank $rank gave up after ENVC_SETUP_TIMEOUT=$timeout seconds: init.setup on local rank 0 neither finished nor failed (killed, or hung?). Set ENVC_SETUP_TIMEOUT to wait longer (0 = forever)." >&2
        exit @TIMEOUT_EXIT@
      fi
      sleep 0.1
    done
  fi
fi
if [ -f @RUN_SCRIPT@ ]; then . @RUN_SCRIPT@; fi
if [ "$#" = 0 ]; then if command -v bash >/dev/null; then set -- bash; else set -- sh; fi; fi
exec "$@"
"""
for _key, _value in (("@ACTIVATE@", paths.ACTIVATE), ("@SETUP_MARKER@", paths.SETUP_MARKER),
                     ("@SETUP_SCRIPT@", paths.SETUP_SCRIPT), ("@RUN_SCRIPT@", paths.RUN_SCRIPT),
                     ("@RANK@", _RANK), ("@TIMEOUT@", str(SETUP_TIMEOUT_DEFAULT)),
                     ("@TIMEOUT_EXIT@", str(SETUP_TIMEOUT_EXIT))):
    WRAPPER = WRAPPER.replace(_key, _value)

# JSON of etc/conda/env_vars.d/* and conda-meta/state, read by awk (POSIX, and in every image
# that has a /bin/sh: mawk, gawk or busybox), not by Python (a conda env need not have one) nor
# jq (rarely installed). A real JSON parser, not line matching: any layout, every string escape
# (\uXXXX and surrogate pairs to UTF-8), nested values skipped. It also sorts the file lists in
# byte order (LC_ALL=C), as conda's sorted() does, and prints sh: the exports, then
# `set -- SCRIPT...` for the activate.d scripts. Its limits: numbers are kept as written (conda
# prints Python's str of the parsed number: 1e3 becomes 1000.0); objects and arrays as values,
# names that are not sh names and values with \u0000 are skipped with a warning (conda would
# export a Python repr, or make a script the shell rejects); a lone surrogate becomes U+FFFD;
# an unreadable or invalid file is skipped whole with a warning (micromamba does the same;
# conda stops activating). No single quote may appear in it: it sits in a sh '...' string.
_AWK = r"""
function warn(m) { printf "envc-activate: %s\n", m > "/dev/stderr" }
function sq(v,    o, i) {
  o = "\047"
  while ((i = index(v, "\047")) > 0) { o = o substr(v, 1, i - 1) "\047\\\047\047"; v = substr(v, i + 1) }
  return o v "\047"
}
function sort(a, n,    i, j, t) {
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j > 0 && (a[j] "") > (t ""); j--) a[j + 1] = a[j]; a[j + 1] = t }
}
function ws() { while (P <= L && index(" \t\n\r", substr(S, P, 1)) > 0) P++ }
function fail(m) { if (E == "") E = m " at byte " P }
function chr(n) { return sprintf("%c", n) }
function utf8(c) {
  if (c < 128) return chr(c)
  if (c < 2048) return chr(192 + int(c / 64)) chr(128 + c % 64)
  if (c < 65536) return chr(224 + int(c / 4096)) chr(128 + int(c / 64) % 64) chr(128 + c % 64)
  return chr(240 + int(c / 262144)) chr(128 + int(c / 4096) % 64) chr(128 + int(c / 64) % 64) chr(128 + c % 64)
}
function hex4(    i, d, n) {
  n = 0
  for (i = 0; i < 4; i++) {
    d = index("0123456789abcdef", tolower(substr(S, P + i, 1)))
    if (d == 0) { fail("bad \\u escape"); return 0 }
    n = n * 16 + d - 1
  }
  P += 4
  return n
}
function str(    o, c, e, u, v) {
  P++; o = ""
  while (P <= L) {
    c = substr(S, P, 1)
    if (c == "\"") { P++; return o }
    if (c != "\\") { o = o c; P++; continue }
    e = substr(S, P + 1, 1); P += 2
    if (e == "\"" || e == "\\" || e == "/") o = o e
    else if (e == "b") o = o "\010"
    else if (e == "f") o = o "\014"
    else if (e == "n") o = o "\n"
    else if (e == "r") o = o "\r"
    else if (e == "t") o = o "\t"
    else if (e == "u") {
      u = hex4()
      if (E != "") return ""
      if (u >= 55296 && u < 56320 && substr(S, P, 2) == "\\u") {
        P += 2; v = hex4()
        if (E != "") return ""
        if (v >= 56320 && v < 57344) u = 65536 + (u - 55296) * 1024 + (v - 56320)
        else { o = o utf8(65533); u = v }
      }
      if (u >= 55296 && u < 57344) u = 65533
      if (u == 0) NUL = 1
      o = o utf8(u)
    } else { P -= 2; fail("bad escape"); return "" }
  }
  fail("unterminated string")
  return ""
}
# One JSON value at P. Returns its text and sets T: s(tring), n(umber), l(iteral: true, false,
# null, already in the spelling conda exports: True, False and the empty string), c(ontainer: skipped).
# For an object, `take` = 1 keeps its members as pending pairs (names upper-cased as conda does).
function value(take,    c, k, v) {
  ws(); c = substr(S, P, 1)
  if (c == "\"") { T = "s"; return str() }
  if (c == "{" || c == "[") {
    P++; ws()
    if (substr(S, P, 1) == (c == "{" ? "}" : "]")) { P++; T = "c"; return "" }
    while (E == "") {
      if (c == "{") {
        ws()
        if (substr(S, P, 1) != "\"") { fail("expected a name"); return "" }
        NUL = 0; k = str(); ws()
        if (substr(S, P, 1) != ":") { fail("expected :"); return "" }
        P++; NUL = 0; v = value(0)
        if (take && E == "") { PN++; PK[PN] = toupper(k); PV[PN] = v; PT[PN] = T; PZ[PN] = NUL }
      } else value(0)
      ws(); c2 = substr(S, P, 1); P++
      if (c2 == (c == "{" ? "}" : "]")) { T = "c"; return "" }
      if (c2 != ",") { fail("expected , or closing bracket"); return "" }
    }
    return ""
  }
  if (substr(S, P, 4) == "true") { P += 4; T = "l"; return "True" }
  if (substr(S, P, 5) == "false") { P += 5; T = "l"; return "False" }
  if (substr(S, P, 4) == "null") { P += 4; T = "l"; return "" }
  if (match(substr(S, P, 400), /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/)) {
    v = substr(S, P, RLENGTH); P += RLENGTH; T = "n"; return v
  }
  fail("unexpected character"); return ""
}
# A whole file: its pairs (for conda-meta/state, those of its "env_vars" object) are kept
# only if all of it parses.
function load(path, state,    r, line, k, i) {
  S = ""
  while ((r = (getline line < path)) > 0) S = S line "\n"
  close(path)
  if (r < 0) { warn(path ": cannot be read, ignored"); return }
  P = 1; L = length(S); E = ""; PN = 0
  ws()
  if (substr(S, P, 1) != "{") fail("expected an object")
  else if (!state) value(1)
  else {
    P++; ws()
    if (substr(S, P, 1) == "}") P++
    else while (E == "") {
      ws()
      if (substr(S, P, 1) != "\"") { fail("expected a name"); break }
      k = str(); ws()
      if (substr(S, P, 1) != ":") { fail("expected :"); break }
      P++; ws()
      if (k == "env_vars") {
        if (substr(S, P, 1) != "{") { fail("env_vars is not an object"); break }
        PN = 0; value(1)
      } else value(0)
      ws(); c = substr(S, P, 1); P++
      if (c == "}") break
      if (c != ",") fail("expected , or }")
    }
  }
  ws()
  if (E == "" && P <= L) fail("unexpected data after the object")
  if (E != "") { warn(path ": not valid JSON (" E "), ignored"); return }
  for (i = 1; i <= PN; i++) {
    k = PK[i]
    if (!(k in V)) K[++NK] = k
    V[k] = PV[i]; VT[k] = PT[i]; VZ[k] = PZ[i]
  }
}
BEGIN {
  state = ARGV[1]; n = ARGV[2] + 0
  for (i = 3; i < 3 + n; i++) F[++NF2] = ARGV[i]
  for (i = 3 + n; i < ARGC; i++) if (ARGV[i] ~ /\.sh$/) A[++NA] = ARGV[i]
  sort(F, NF2); sort(A, NA)
  for (i = 1; i <= NF2; i++) load(F[i], 0)
  if (state != "") load(state, 1)
  for (i = 1; i <= NK; i++) {
    k = K[i]; v = V[k]
    if (v == "***unset***" && VT[k] == "s") continue
    if (k !~ /^[A-Z_][A-Z0-9_]*$/) { warn("variable " k " skipped: not a valid sh name"); continue }
    if (VT[k] == "c") { warn("variable " k " skipped: its value is an object or array"); continue }
    if (VZ[k]) { warn("variable " k " skipped: its value contains \\u0000"); continue }
    printf "export %s=%s\n", k, sq(v)
  }
  printf "set --"
  for (i = 1; i <= NA; i++) printf " %s", sq(A[i])
  printf "\n"
  exit
}
"""

# activate.d scripts are sourced by bash when the image has one, as `conda run` does: conda-forge's
# own scripts (the compilers' activate-gcc_linux-64.sh among them) use `function` and
# ${BASH_SOURCE[0]}, a syntax error in dash. bash runs in a child, sources the scripts at top
# level in path order with no positional parameters, then (at exit, even when a script calls
# `exit`) prints, as sh on fd 3, every exported variable the scripts added, changed or removed;
# its own _, SHLVL, PWD, OLDPWD, SHELLOPTS and BASHOPTS are left out. Without bash (or a bash with
# no compgen), each script is sourced in the current shell with `command .`, so a syntax error
# stops that script and not the shell. Either way the scripts' stdout goes to stderr, so the
# command's stdout carries only its own output; what they do besides exporting (cd, functions,
# non-exported variables, shell options) does not outlive activation. The image's BASH_ENV, which
# every non-interactive bash would source first, is not run. No single quote in here.
_BASH = r"""
type compgen >/dev/null 2>&1 || exit 3
printf "_envc_bash_ok=1\n" >&3
declare -A _envc_old
for _envc_n in $(compgen -e); do _envc_old[$_envc_n]=${!_envc_n}; done
_envc_emit() {
  local n v o q
  local -A now
  printf -v q "\\047"
  for n in $(compgen -e); do
    [[ -n ${!n+set} ]] || continue
    now[$n]=1
    case $n in _|SHLVL|PWD|OLDPWD|SHELLOPTS|BASHOPTS) continue ;; esac
    v=${!n}
    if [[ -n ${_envc_old[$n]+set} && ${_envc_old[$n]} == "$v" ]]; then continue; fi
    o=$q
    while [[ $v == *$q* ]]; do o=$o${v%%$q*}$q\\$q$q; v=${v#*$q}; done
    printf "export %s=%s\n" "$n" "$o$v$q" >&3
  done
  for n in "${!_envc_old[@]}"; do
    case $n in _|SHLVL|PWD|OLDPWD|SHELLOPTS|BASHOPTS) continue ;; esac
    [[ -n ${now[$n]+set} ]] || printf "unset %s\n" "$n" >&3
  done
}
trap _envc_emit EXIT
_envc_scripts=("$@")
set --
for _envc_f in "${_envc_scripts[@]}"; do . "$_envc_f"; done
"""

# conda's order (conda/activate.py): the variables of etc/conda/env_vars.d/* (every file, in
# sorted path order, later files winning), then those of conda-meta/state's "env_vars"
# (overriding), names upper-cased, values "***unset***" left out; then etc/conda/activate.d/*.sh
# in sorted path order. PATH and CONDA_PREFIX are the image's ENV, not set here. Once per prefix:
# ENVC_ACTIVATED holds the activated prefix, so a wrapper started from an activated process
# (mpirun inside `podman run IMAGE`) does not run activate.d twice. Safe to source from a shell
# with set -e or set -u (both are off while the scripts run, then restored), with positional
# parameters (the scripts never see them, and they are kept), and it always returns 0.
ACTIVATE = r"""# envc-activate: conda activation of $CONDA_PREFIX for POSIX sh. Source it: . @ACTIVATE@
_envc_awk='@AWK@'
_envc_bash='@BASH@'
_envc_dot() { command . "$_envc_f" >&2; }
_envc_activate_prefix() {
  _envc_etc=$_envc_prefix/etc/conda
  _envc_state=$_envc_prefix/conda-meta/state
  if [ ! -f "$_envc_state" ]; then _envc_state=; fi
  set --
  for _envc_f in "$_envc_etc"/env_vars.d/* "$_envc_etc"/env_vars.d/.[!.]* "$_envc_etc"/env_vars.d/..?*; do
    if [ -f "$_envc_f" ]; then set -- "$@" "$_envc_f"; fi
  done
  _envc_n=$#
  for _envc_f in "$_envc_etc"/activate.d/* "$_envc_etc"/activate.d/.[!.]* "$_envc_etc"/activate.d/..?*; do
    case $_envc_f in *.sh) if [ -f "$_envc_f" ]; then set -- "$@" "$_envc_f"; fi ;; esac
  done
  if [ "$#" -eq 0 ] && [ -z "$_envc_state" ]; then return 0; fi
  if command -v awk >/dev/null 2>&1; then
    _envc_code=$(LC_ALL=C awk "$_envc_awk" "$_envc_state" "$_envc_n" "$@")
    eval "$_envc_code"
  else
    echo "envc-activate: no awk in the image: $_envc_etc/env_vars.d and conda-meta/state not applied" >&2
    shift "$_envc_n"
  fi
  if [ "$#" -eq 0 ]; then return 0; fi
  _envc_bash_ok=
  if command -v bash >/dev/null 2>&1; then
    _envc_code=$(BASH_ENV= bash -c "$_envc_bash" envc-activate "$@" 3>&1 >&2)
    eval "$_envc_code"
  fi
  if [ -z "$_envc_bash_ok" ]; then
    for _envc_f do _envc_dot; done
  fi
}
_envc_activate() {
  _envc_flags=$-
  set +eu
  _envc_prefix=${CONDA_PREFIX-}
  if [ -n "$_envc_prefix" ] && [ "${ENVC_ACTIVATED-}" != "$_envc_prefix" ]; then
    _envc_activate_prefix
    ENVC_ACTIVATED=$_envc_prefix
    export ENVC_ACTIVATED
  fi
  case $_envc_flags in *e*) set -e ;; esac
  case $_envc_flags in *u*) set -u ;; esac
}
_envc_activate
unset -f _envc_activate _envc_activate_prefix _envc_dot
unset _envc_awk _envc_bash _envc_bash_ok _envc_code _envc_etc _envc_f _envc_flags _envc_n _envc_prefix _envc_state
""".replace("@ACTIVATE@", paths.ACTIVATE).replace("@AWK@", _AWK.strip("\n")).replace("@BASH@", _BASH.strip("\n"))

assert "'" not in _AWK and "'" not in _BASH  # each sits inside a sh '...' string
