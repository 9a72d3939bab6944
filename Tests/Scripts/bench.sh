#!/usr/bin/env bash
# Tandem benchmarks. Every figure is a median of several runs, reported as a ratio against a
# baseline measured in the same run on the same machine.
set -euo pipefail

bin=${1:?usage: bench.sh BIN_DIR}
updatectl="$bin/updatectl"
runs=${BENCH_RUNS:-9}
work=$(mktemp -d "${TMPDIR:-/tmp}/tandem-bench.XXXXXX")
loop=""
cleanup() { [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# median_seconds COMMAND...: runs COMMAND $runs times and prints the median wall time.
median_seconds() {
    local times=()
    for _ in $(seq "$runs"); do
        local start end
        start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
        times+=("$(echo "$end - $start" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

disk="$work/disk.img"
truncate -s 64M "$disk"
usr=5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6
sgdisk -o -n 3:0:+16M -t 3:$usr -c 3:USR-A -A 3:set:48 -A 3:set:56 \
          -n 4:0:+16M -t 4:$usr -c 4:USR-B "$disk" >/dev/null
target=$disk
if [ "$(id -u)" = 0 ] && [ -e /dev/loop-control ]; then
    loop=$(losetup --find --show "$disk")
    target=$loop
fi

echo "== GPT flip on $target (both copies, synced, verified), median of $runs"
t_tandem=$(median_seconds "$updatectl" disk mark "$target" B trial)
t_sgdisk=$(median_seconds sgdisk -A 4:toggle:52 "$target")
printf '%-44s %8.4f s\n' "T_flip   updatectl disk mark B trial" "$t_tandem"
printf '%-44s %8.4f s\n' "T_sgdisk sgdisk -A 4:toggle:52 (baseline)" "$t_sgdisk"
printf '%-44s %8.2f\n' "ratio T_flip / T_sgdisk" "$(echo "$t_tandem / $t_sgdisk" | bc -l)"
