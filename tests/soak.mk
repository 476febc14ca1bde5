# tests/soak.mk - seeded random paging soak (included by the top Makefile).
#
#   make soak SEEDS=N    for each seed 1..N: one Umbra boot running
#                        tests/guests/randpaging.elf with seed=S under
#                        paging=tdp and paging=shadow, each VM's output
#                        compared with the bare QEMU run (tests/emu/run
#                        diff=... full); PASS/FAIL per seed, then
#                        "N passed, N failed"
#
# The test files are generated in build/soak/seed-S.t (logs beside them in
# build/soak/seed-S/); tests/emu/soak-qemu.t is the fixed-seed version that
# `make test` runs.

SEEDS ?= 8

.PHONY: soak
soak: all guests
	@rm -rf $(B)/soak; mkdir -p $(B)/soak
	@for s in $$(seq 1 $(SEEDS)); do \
	  { echo "desc=randpaging seed $$s, paging=tdp and paging=shadow, output identical to bare QEMU"; \
	    echo "emu=qemu"; echo "cpu=max"; echo "mem=512M"; echo "timeout=300"; echo "umbra=exit=emu"; \
	    for m in tdp shadow; do \
	      echo "guest=$(B)/guests/randpaging.elf name=rp$$s-$$m paging=$$m mem=32M -- seed=$$s"; \
	      echo "expect=^VM-END name=rp$$s-$$m result=exit code=0"; \
	      echo "diff=rp$$s-$$m $(B)/guests/randpaging.elf seed=$$s 64M full"; \
	    done; \
	    echo "expect=^SUMMARY vms=2 passed=2 failed=0"; \
	  } > $(B)/soak/seed-$$s.t; \
	done
	@tests/emu/run $$(for s in $$(seq 1 $(SEEDS)); do echo ../../$(B)/soak/seed-$$s; done) \
	  > $(B)/soak/run.log 2>&1; rc=$$?; \
	 sed -e 's|emu/\.\./\.\./$(B)/soak/|soak/|' $(B)/soak/run.log; exit $$rc
