#!/bin/bash
# A real one-node Slurm cluster on localhost, for tests/slurm.rs: installs Debian's slurm-wlm
# and munge when missing, starts munged, slurmctld and slurmd with state under a temp dir,
# runs `ictwin slurm --submit` (4-task array + dependent merge), waits for the merge job, and
# checks the merged result against the unsharded run. Stops the daemons it started, by pid,
# also on failure.
# Usage: cluster.sh ICTWIN_BINARY WORKDIR
# Exit 0: passed; 1: failed; 77: skipped (not root or no apt-get).
set -euo pipefail
ICTWIN=$1
WORK=$2
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "SKIPPED: the Slurm cluster test needs root and apt-get" >&2
    exit 77
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >&2; }
fi
rm -rf "$WORK"
mkdir -p "$WORK"/{munge,spool,state,log,run}
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# munge: a fresh key and socket under $WORK.
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$WORK/munge"; chmod 400 "$WORK/munge/munge.key"
SOCK="$WORK/munge/munge.socket"
munged --foreground --force --key-file="$WORK/munge/munge.key" --socket="$SOCK" \
    --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/log/munged.log" --seed-file="$WORK/munge/seed" &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

HOST=$(hostname -s)
NODE=$(slurmd -C | head -1)   # NodeName=... CPUs=... RealMemory=...
CONF="$WORK/slurm.conf"
cat > "$CONF" <<CONFEOF
ClusterName=ictwin-test
SlurmctldHost=$HOST
AuthType=auth/munge
AuthInfo=socket=$SOCK
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/run/slurmctld.pid
SlurmdPidFile=$WORK/run/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
$NODE State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONFEOF
export SLURM_CONF=$CONF
slurmctld -D -f "$CONF" &
PIDS+=($!)
slurmd -D -f "$CONF" &
PIDS+=($!)
for _ in $(seq 60); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo >&2

OUT="$WORK/job"
SIZE=(--replicas 40 --rounds 50 --seed 3)
"$ICTWIN" slurm --tasks 4 --engine cpu "${SIZE[@]}" --out "$OUT" --submit | tee "$WORK/submit.out"
MERGE=$(sed -n 's/.*merge job \([0-9]*\).*/\1/p' "$WORK/submit.out")
[ -n "$MERGE" ] || { echo "no merge job id" >&2; exit 1; }
# Wait (at most 5 minutes) until the merge job has left the queue.
for _ in $(seq 300); do
    [ -z "$(squeue -h -j "$MERGE" 2>/dev/null)" ] && break
    sleep 1
done
[ -f "$OUT/merged/summary.csv" ] || { echo "merge produced nothing; logs:" >&2; tail -n 20 "$OUT"/logs/* "$WORK"/log/*.log >&2; exit 1; }
"$ICTWIN" run --engine cpu --quiet "${SIZE[@]}" --out "$WORK/whole" >/dev/null
cmp "$OUT/merged/histograms.csv" "$WORK/whole/histograms.csv"
strip() { cut -d, -f1-26 "$1"; }   # all columns but replica_rounds_per_s, wall_s
diff <(strip "$OUT/merged/summary.csv") <(strip "$WORK/whole/summary.csv")
echo "PASSED: 4 Slurm shards merged equal the unsharded run"
