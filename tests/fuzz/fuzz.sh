#!/usr/bin/env bash
# tests/fuzz/fuzz.sh - run the libFuzzer targets built by tests/fuzz/fuzz.mk.
#
#   fuzz.sh run SECONDS NAME...   fuzz each target for SECONDS; one result
#                                 line per target; exit 1 if any failed
#   fuzz.sh regress NAME          run the target once over its seed corpus
#                                 and its regression inputs; prints
#                                 "PASS: fuzz/NAME" or "FAIL: fuzz/NAME"
#
# FUZZ_B is the build directory (default build/fuzz). Fuzzing grows a
# working corpus in $FUZZ_B/corpus/NAME (seeded from tests/fuzz/corpus/NAME
# and tests/fuzz/regress/NAME, which are only read); a crash, leak, timeout
# or out-of-memory leaves its input in $FUZZ_B/crash-NAME-*.
set -u

B=${FUZZ_B:-build/fuzz}
HERE=tests/fuzz

# Per-target libFuzzer options.
opts_for() {
    case "$1" in
        x86_dec) echo "-max_len=32" ;;
        x86_emu) echo "-max_len=512" ;;
        cmdline) echo "-max_len=512 -dict=$HERE/cmdline.dict" ;;
        mb2)     echo "-max_len=8192 -dict=$HERE/mb2.dict" ;;
        mb1)     echo "-max_len=8192" ;;
        *)       echo "-max_len=4096" ;;
    esac
}

inputs_of() {
    local d
    for d in "$HERE/corpus/$1" "$HERE/regress/$1"; do
        [ -d "$d" ] && find "$d" -maxdepth 1 -type f ! -name '.*' | sort
    done
}

regress() {
    local t=$1 bin=$B/fuzz_$1 log=$B/regress-$1.log
    mapfile -t files < <(inputs_of "$t")
    if [ ! -x "$bin" ]; then
        echo "FAIL: fuzz/$t (no binary $bin)"
        return 1
    fi
    if [ ${#files[@]} -eq 0 ]; then
        echo "FAIL: fuzz/$t (no inputs in $HERE/corpus/$t)"
        return 1
    fi
    # With files as arguments libFuzzer runs each once and stops at the
    # first failure.
    if "$bin" -runs=1 "${files[@]}" > "$log" 2>&1; then
        echo "PASS: fuzz/$t"
        return 0
    fi
    echo "FAIL: fuzz/$t (see $log)"
    grep -m3 -E '^(INVARIANT|==[0-9]+==ERROR|.*runtime error|Running: )' "$log" | tail -3 | sed 's/^/    /'
    return 1
}

run() {
    local secs=$1 t=$2 bin=$B/fuzz_$2 log=$B/fuzz-$2.log work=$B/corpus/$2
    local dirs=("$work" "$HERE/corpus/$t") stamp=$B/.start-$t
    [ -d "$HERE/regress/$t" ] && dirs+=("$HERE/regress/$t")
    mkdir -p "$work"
    touch "$stamp"
    # shellcheck disable=SC2046
    "$bin" -max_total_time="$secs" -timeout=30 -report_slow_units=1000 -rss_limit_mb=2560 -print_final_stats=1 \
        -artifact_prefix="$B/crash-$t-" $(opts_for "$t") "${dirs[@]}" > "$log" 2>&1
    local rc=$?
    local execs cov ft corp
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    local last
    last=$(grep -E 'cov: [0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
    local crashes
    crashes=$(find "$B" -maxdepth 1 -newer "$stamp" \( -name "crash-$t-crash-*" -o -name "crash-$t-leak-*" \
        -o -name "crash-$t-timeout-*" -o -name "crash-$t-oom-*" \) | sort | tr '\n' ' ')
    local verdict=PASS
    [ $rc -ne 0 ] || [ -n "$crashes" ] && verdict=FAIL
    printf '%s: fuzz/%-8s %10s execs in %ss, cov %s, ft %s, corpus %s\n' \
        "$verdict" "$t" "${execs:-?}" "$secs" "${cov:-?}" "${ft:-?}" "${corp:-?}"
    if [ $verdict = FAIL ]; then
        grep -m2 -E '^(INVARIANT|==[0-9]+==ERROR|SUMMARY)|runtime error' "$log" | sed 's/^/    /'
        echo "    log: $log; reproducer: ${crashes:-none}"
        echo "    replay: $bin ${crashes%% *}"
        return 1
    fi
    return 0
}

case "${1:-}" in
    regress)
        [ $# -eq 2 ] || { echo "usage: $0 regress NAME" >&2; exit 2; }
        regress "$2" ;;
    run)
        [ $# -ge 3 ] || { echo "usage: $0 run SECONDS NAME..." >&2; exit 2; }
        secs=$2; shift 2
        fail=0
        for t in "$@"; do run "$secs" "$t" || fail=1; done
        exit $fail ;;
    *)
        echo "usage: $0 run SECONDS NAME... | regress NAME" >&2; exit 2 ;;
esac
