#!/usr/bin/env bash
# tests/guests/check-bare.sh - run test guests bare on QEMU (the reference
# hardware) and check how each one ends; also check that the output does not
# depend on the amount of RAM (-m 64M and -m 128M must print the same).
#
#   tests/guests/check-bare.sh [NAME...]      default: every build/guests/*.elf
#   SMP=4 tests/guests/check-bare.sh smpwake  the multi-CPU guests with 4 CPUs
#
# Needs build/guests/NAME.elf (make guests). Logs: build/guests/NAME.bare*.log
# Prints "PASS: bare/NAME" or "FAIL: bare/NAME (why)" per guest and exits
# non-zero if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
out=build/guests
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in "$out"/*.elf; do [ -e "$f" ] && names+=("$(basename "$f" .elf)"); done
fi

# run NAME MEM LOG: boots the guest; its status goes to LOG.status.
# The multi-CPU guests (smpwake, ptshare) get two CPUs, or SMP=N.
run() {
	local t=60 args="" smp=1
	[ "$1" = spin ] && t=10
	[ "$1" = hello ] && args="seed=7 verbose"
	case $1 in smpwake|ptshare) smp=${SMP:-2} ;; esac
	timeout "$t" qemu-system-x86_64 -M pc -cpu max -smp "$smp" -m "$2" \
		-kernel "$out/$1.elf" -append "$args" -display none \
		-serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 >"$3" 2>"$3.err" </dev/null
	echo $? >"$3.status"
}

fail=0
for g in "${names[@]}"; do
	log=$out/$g.bare.log
	run "$g" 64M "$log" &
	run "$g" 128M "$out/$g.bare128.log" &
	wait
	s64=$(cat "$log.status")
	why=""
	head -n 1 "$log" | grep -qx "guest $g start" || why="no start line"
	case $g in
	spin)
		[ "$s64" = 124 ] || why="not spinning (status $s64)"
		tail -n 1 "$log" | grep -q "^spinning forever" || why="no spin line"
		;;
	triplefault)
		[ "$s64" = 0 ] || why="status $s64, not a triple fault (0)"
		;;
	*)
		[ "$s64" = 1 ] || why="status $s64, not a clean exit (1)"
		tail -n 1 "$log" | grep -qx "SUMMARY: [0-9]* tests, 0 failures" ||
			why="${why:+$why, }no clean SUMMARY line"
		;;
	esac
	cmp -s "$log" "$out/$g.bare128.log" || why="${why:+$why, }-m 64M and -m 128M differ"
	if [ -z "$why" ]; then
		echo "PASS: bare/$g"
	else
		echo "FAIL: bare/$g ($why; see $log)"
		fail=1
	fi
done
exit $fail
