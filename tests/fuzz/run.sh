#!/bin/sh
# Runs one libFuzzer target built by `make fuzz`: tests/fuzz/run.sh NAME SECONDS
# Starts from the seed corpus (and what earlier runs found, in build-fuzz/corpus),
# prints libFuzzer's closing figures, and fails when a crash was saved.
set -u
n=$1
secs=$2
out=build-fuzz
mkdir -p "$out/corpus/$n" "$out/crashes/$n"
log="$out/fuzz_$n.log"
"$out/fuzz_$n" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 \
	-artifact_prefix="$out/crashes/$n/" "$out/corpus/$n" "tests/fuzz/corpus/$n" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed -E 's/.* cov: ([0-9]+).*/\1/')
if ls "$out/crashes/$n"/* >/dev/null 2>&1 || [ $rc -ne 0 ]; then
	grep -E '==[0-9]+==ERROR|SUMMARY|runtime error' "$log" | head -5
	echo "fuzz $n: FAILED after ${runs:-?} runs (exit $rc); input saved in $out/crashes/$n, log $log"
	exit 1
fi
echo "fuzz $n: ${runs:-?} runs in ${secs}s, coverage ${cov:-?}, no crash"
