# bench/bench.mk - benchmarks (included by the top Makefile).
#
#   make bench       bench guests bare on QEMU and under Umbra (paging=tdp,
#                    paging=shadow), QEMU -icount: instructions and exits per
#                    operation, build/bench/results.{csv,json} (docs/performance.md)
#   make bench-kvm   the same guests under Linux KVM (Debian's kernel, kvm_amd
#                    as L1 in the same QEMU -icount), for comparison:
#                    build/bench-kvm/results.csv (bench/kvm-bench)
#
# BENCH_ARGS passes options to tools/umbra-bench, e.g. BENCH_ARGS="--shift 6".

BENCH_ARGS ?=

.PHONY: bench bench-kvm deps-bench
deps-bench:
	@tools/deps.sh build qemu
bench: deps-bench all guests
	tools/umbra-bench --out $(B)/bench $(BENCH_ARGS)

bench-kvm: deps-bench guests
	bench/kvm-bench
