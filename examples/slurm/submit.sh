#!/bin/bash
# Submits a sharded Rigor batch to Slurm: N array tasks (shard.sbatch), then the merge
# (merge.sbatch) once all of them succeeded. Prints the two job ids.
#
#   RIGOR_SEEDS=0..499 examples/slurm/submit.sh 8
#
# Run it from the project directory (the tasks and agents are found from there); the jobs run
# in it too. See shard.sbatch for the settings; RIGOR_LOG_DIR is where the jobs' logs go
# (default: the current directory).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
count=${1:-4}
logs=${RIGOR_LOG_DIR:-.}
array=$(sbatch --parsable --array="1-$count" --output="$logs/rigor-shard-%A_%a.log" "$here/shard.sbatch")
merge=$(sbatch --parsable --dependency="afterok:${array%%;*}" --kill-on-invalid-dep=yes \
  --output="$logs/rigor-merge-%j.log" "$here/merge.sbatch")
echo "${array%%;*} ${merge%%;*}"
