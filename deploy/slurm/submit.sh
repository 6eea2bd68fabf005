#!/usr/bin/env bash
# Usage: deploy/slurm/submit.sh SCENARIO SHARDS OUT
# e.g.   deploy/slurm/submit.sh scenarios/tradeoff.toml 16 /shared/scalesim/reports
# Needs `sim` on PATH on the compute nodes (or SIM=/path/to/sim) and OUT on a shared file system.
set -euo pipefail
scenario=${1:?scenario file}; shards=${2:?number of shards}; out=${3:?shared results folder}
export SCENARIO=$scenario SHARDS=$shards OUT=$out SCALESIM_DIR=${SCALESIM_DIR:-$PWD}
jid=$(sbatch --parsable --export=ALL --array=0-$((shards - 1)) "$SCALESIM_DIR/deploy/slurm/sweep.sbatch")
sbatch --export=ALL --dependency=afterok:"$jid" "$SCALESIM_DIR/deploy/slurm/merge.sbatch"
echo "submitted sweep array $jid ($shards shards) and its merge"
