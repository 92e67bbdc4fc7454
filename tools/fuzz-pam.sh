#!/bin/sh
# Long libFuzzer run over the PAM module's input handling (native/pam/fuzz/): the reply
# parser, the option parser, the request encoder and the transport (a hostile agent on a real
# socket, failing allocations), each under ASan and UBSan. The test suite runs the
# same harnesses for a few seconds (test/native/fuzz.test.ts); this is the long run.
#
#   tools/fuzz-pam.sh [SECONDS_PER_HARNESS=600]
#
# Needs clang and libclang-rt-14-dev. Corpora grow in build/fuzz/corpus/<harness>/ and are
# reused by the next run; a crash leaves its input in build/fuzz/artifacts/ and fails the run.
set -eu
seconds=${1:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/build/fuzz
mkdir -p "$work/artifacts"
node "$root/tools/fuzz-seeds.mjs" "$work/seeds" >/dev/null
status=0
for harness in reply options encoder transport; do
  binary=$work/fuzz-$harness
  if [ "$harness" = transport ]; then
    extra="-pthread -Dmalloc=fuzz_malloc"; flavour=fuzz-malloc
  else
    extra=; flavour=fuzz
  fi
  # The module's sources as libraries, from their one list (native/c-library.mjs).
  libraries=$(node "$root/native/c-library.mjs" "$flavour" | tr '\n' ' ')
  # shellcheck disable=SC2086
  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $extra -o "$binary" \
    "$root/native/pam/fuzz/fuzz-$harness.c" $libraries
  mkdir -p "$work/corpus/$harness"
  dict=
  [ "$harness" = options ] && dict="-dict=$root/native/pam/fuzz/options.dict"
  echo "== fuzz-$harness for ${seconds}s"
  if "$binary" "$work/corpus/$harness" "$work/seeds/$harness" $dict -max_total_time="$seconds" \
      -max_len=70000 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/$harness-" >"$work/$harness.log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)' "$work/$harness.log" || true
    echo "corpus: $(ls "$work/corpus/$harness" | wc -l) inputs; $(grep -oE 'cov: [0-9]+' "$work/$harness.log" | tail -1)"
  else
    status=1
    echo "fuzz-$harness FAILED; see $work/$harness.log and $work/artifacts/"
    tail -30 "$work/$harness.log"
  fi
done
exit $status
