#!/usr/bin/env bash
# Runs each fuzz target for SECONDS with libFuzzer and prints one summary line per target.
# Usage: run-fuzzers.sh FUZZER SECONDS SCRATCH TARGET...
# The growing corpus goes to SCRATCH/corpus/TARGET, so the committed seeds (Fuzz/Corpus) and
# regression inputs (Fuzz/Regressions) are only read. A crashing, leaking or hanging input is
# copied to fuzz-crashes/TARGET/ and fails the run, after every target has had its turn.
# Leaks in libraries rather than in Tandem are suppressed by Fuzz/lsan.supp.
set -uo pipefail
fuzzer=$1 seconds=$2 scratch=$3
shift 3
root=$(cd "$(dirname "$0")/../.." && pwd)
crashes=$root/fuzz-crashes
failed=()
summaries=()
for target in "$@"; do
  corpus=$scratch/corpus/$target artifacts=$scratch/artifacts/$target log=$scratch/logs/$target.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  rm -f "$artifacts"/*
  inputs=()
  for kind in Corpus Regressions; do
    [ -d "$root/Fuzz/$kind/$target" ] && inputs+=("$root/Fuzz/$kind/$target")
  done
  echo "== fuzz $target: ${seconds}s"
  # -max_len fits the largest seed (a GPT image's two ends); -timeout is per input.
  # Swift's own crash backtracer would trip over ASan; ASan reports the trap instead.
  TANDEM_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1 \
    LSAN_OPTIONS=suppressions=$root/Fuzz/lsan.supp \
    "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
      -detect_leaks=1 -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$corpus" "${inputs[@]}" >"$log" 2>&1
  status=$?
  stats=$(grep -E '^#[0-9]+' "$log" | tail -1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$stats")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$stats")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$stats")
  found=$(find "$artifacts" -type f | wc -l)
  line="fuzz $target: ${runs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} inputs, $found crashes"
  if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
    failed+=("$target")
    mkdir -p "$crashes/$target"
    cp "$artifacts"/* "$crashes/$target/" 2>/dev/null
    line="$line (exit $status) FAILED"
    grep -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|Fatal error|SUMMARY' "$log" | head -5
    for file in "$crashes/$target"/*; do
      [ -f "$file" ] || continue
      echo "   input: $file ($(stat -c %s "$file") bytes)"
      [ "$(stat -c %s "$file")" -le 2048 ] && od -A d -t x1 "$file" | head -20
    done
    echo "   log: $log"
  fi
  echo "$line"
  summaries+=("$line")
done
echo "== fuzz summary"
printf '%s\n' "${summaries[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzzing failed for: ${failed[*]}; inputs in $crashes (see docs/fuzzing.md)"
  exit 1
fi
