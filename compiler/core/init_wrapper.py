"""The init wrapper: the image's ENTRYPOINT when the spec has init scripts (a lowering decision,
kept apart because it is a program of its own)."""
from envc.common import image_paths as paths

# Azure ML's aml_wrapper.py, as a POSIX sh script with no Python needed: setup runs once
# per node (local rank 0) while the other ranks wait; a failed setup stops every rank
# instead of letting them run on a half-prepared node; run is sourced so its exports
# reach the command, which then replaces the shell (signals reach it directly).
# Markers are per launch (the launcher's job id, else the parent process and its start
# time), so a second launch in the same container never trusts the previous one's.
WRAPPER = r"""#!/bin/sh
# envc init wrapper: init.setup once per node, init.run in every process, then the command.
set -e
rank=${LOCAL_RANK:-${OMPI_COMM_WORLD_LOCAL_RANK:-${SLURM_LOCALID:-${MPI_LOCALRANKID:-0}}}}
launch=${ENVC_LAUNCH_ID:-${TORCHELASTIC_RUN_ID:+$TORCHELASTIC_RUN_ID.${TORCHELASTIC_RESTART_COUNT:-0}}}
launch=${launch:-${PMIX_NAMESPACE:-${OMPI_MCA_ess_base_jobid:-${SLURM_JOB_ID:+$SLURM_JOB_ID.${SLURM_STEP_ID:-0}}}}}
if [ -z "$launch" ]; then launch=$PPID.$(sed "s/.*) //" "/proc/$PPID/stat" 2>/dev/null | cut -d" " -f20); fi
marker=${ENVC_SETUP_MARKER:-@SETUP_MARKER@}.$(printf "%s" "$launch" | tr -c "A-Za-z0-9._-" "_")
if [ -f @SETUP_SCRIPT@ ]; then
  if [ "$rank" = 0 ]; then
    rm -f "$marker.done" "$marker.failed"
    if sh @SETUP_SCRIPT@; then touch "$marker.done"; else status=$?; touch "$marker.failed"; exit "$status"; fi
  else
    while [ ! -e "$marker.done" ]; do
      if [ -e "$marker.failed" ]; then echo "envc-init: init.setup failed on local rank 0" >&2; exit 1; fi
      sleep 0.1
    done
  fi
fi
if [ -f @RUN_SCRIPT@ ]; then . @RUN_SCRIPT@; fi
exec "$@"
""".replace("@SETUP_MARKER@", paths.SETUP_MARKER).replace("@SETUP_SCRIPT@", paths.SETUP_SCRIPT).replace("@RUN_SCRIPT@", paths.RUN_SCRIPT)
