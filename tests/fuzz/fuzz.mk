# tests/fuzz/fuzz.mk - libFuzzer targets for the pure cores (see
# tests/fuzz/README.md). Included by the top-level Makefile.
#
#   make fuzz [FUZZ_TIME=60] [FUZZ_TARGETS="mb2 pt"]
#        build every target into build/fuzz/ and run each for FUZZ_TIME
#        seconds; one line per target with executions, coverage, corpus
#        size and PASS/FAIL; a crash leaves build/fuzz/crash-NAME-*
#   make fuzz-regress
#        run every target once over tests/fuzz/corpus/NAME and
#        tests/fuzz/regress/NAME: one "PASS: fuzz/NAME" or
#        "FAIL: fuzz/NAME" line per target (used by make test)
#   make fuzz-build   only build them
#
# The code under test is compiled with libFuzzer's coverage
# instrumentation; the harnesses and models (tests/fuzz, tests/host
# helpers) without it, so coverage measures the module. Everything runs
# under ASan and UBSan, which abort on the first error.

FUZZ_CC      ?= clang
FUZZ_TIME    ?= 60
FUZZ_ALL     := mb2 mb1 cmdline gwalk x86_dec x86_emu pt pmm nested_check shadow
FUZZ_TARGETS ?= $(FUZZ_ALL)

# FUZZ_MOD_x: instrumented (code under test); FUZZ_HARN_x: not.
FUZZ_MOD_mb2      := kernel/bootinfo.c kernel/fmt.c
FUZZ_HARN_mb2     := tests/fuzz/fuzz_mb2.c tests/fuzz/fuzz_bootinfo.c
FUZZ_MOD_mb1      := kernel/bootinfo.c kernel/fmt.c
FUZZ_HARN_mb1     := tests/fuzz/fuzz_mb1.c tests/fuzz/fuzz_bootinfo.c
FUZZ_MOD_cmdline  := kernel/cmdline.c kernel/fmt.c
FUZZ_HARN_cmdline := tests/fuzz/fuzz_cmdline.c
# the reference model is instrumented too: its branches are the SDM's rules
FUZZ_MOD_gwalk    := mm/gwalk.c tests/host/gwalk_ref.c
FUZZ_HARN_gwalk   := tests/fuzz/fuzz_gwalk.c tests/host/gwalk_fake.c
FUZZ_MOD_x86_dec  := kernel/x86_dec.c kernel/x86_dec_tables.c
FUZZ_HARN_x86_dec := tests/fuzz/fuzz_x86_dec.c
FUZZ_MOD_x86_emu  := kernel/x86_dec.c kernel/x86_dec_tables.c kernel/x86_emu.c kernel/x86_emu_alu.c \
	kernel/x86_emu_str.c kernel/x86_emu_mem.c
FUZZ_HARN_x86_emu := tests/fuzz/fuzz_x86_emu.c
FUZZ_MOD_pt       := mm/pt.c
FUZZ_HARN_pt      := tests/fuzz/fuzz_pt.c
FUZZ_MOD_pmm      := mm/pmm.c
FUZZ_HARN_pmm     := tests/fuzz/fuzz_pmm.c
FUZZ_MOD_shadow   := mm/shadow.c mm/shadow_page.c mm/shadow_sync.c mm/shadow_fault.c mm/gwalk.c
FUZZ_HARN_shadow  := tests/fuzz/fuzz_shadow.c tests/host/test_shadow_fuzz.c tests/host/shadow_model.c \
	tests/host/shadow_fake.c
FUZZ_MOD_nested_check  := svm/nested_check.c
FUZZ_HARN_nested_check := tests/fuzz/fuzz_nested_check.c

# The decoder's length oracle: LLVM's disassembler, from libLLVM (which
# clang itself uses), when present.
FUZZ_LLVM_LIB := $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/libLLVM-14.so.1 \
	/usr/lib/llvm-14/lib/libLLVM-14.so.1))
ifneq ($(FUZZ_LLVM_LIB),)
$(B)/fuzz/obj/harn/tests/fuzz/fuzz_x86_dec.o: FUZZ_XFLAGS := -DFUZZ_LLVM_ORACLE
FUZZ_LIBS_x86_dec := $(FUZZ_LLVM_LIB)
endif

FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -fno-omit-frame-pointer \
	-DUMBRA_HOST -I. $(FUZZ_SAN)

$(B)/fuzz/obj/mod/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(B)/fuzz/obj/harn/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_XFLAGS) -MMD -MP -c $< -o $@

define FUZZ_TARGET_RULE
$(B)/fuzz/fuzz_$(1): $(patsubst %.c,$(B)/fuzz/obj/mod/%.o,$(FUZZ_MOD_$(1))) \
		$(patsubst %.c,$(B)/fuzz/obj/harn/%.o,$(FUZZ_HARN_$(1)))
	@echo "  FUZZLD  $$@"
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $$^ $(FUZZ_LIBS_$(1)) -o $$@
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call FUZZ_TARGET_RULE,$(t))))

-include $(wildcard $(B)/fuzz/obj/*/*/*.d $(B)/fuzz/obj/*/*/*/*.d)

.PHONY: fuzz fuzz-regress fuzz-build
fuzz-build: fuzz-deps $(addprefix $(B)/fuzz/fuzz_,$(FUZZ_TARGETS))
.PHONY: fuzz-deps
fuzz-deps:
	@tools/deps.sh host

fuzz: fuzz-build
	@FUZZ_B=$(B)/fuzz tests/fuzz/fuzz.sh run $(FUZZ_TIME) $(FUZZ_TARGETS)

# One line per target even when it does not build (a missing clang, a
# changed API): the build of each target is tried on its own.
fuzz-regress:
	@mkdir -p $(B)/fuzz; fail=0; \
	 for t in $(FUZZ_TARGETS); do \
	  if $(MAKE) --no-print-directory $(B)/fuzz/fuzz_$$t > $(B)/fuzz/build-$$t.log 2>&1; then \
	    FUZZ_B=$(B)/fuzz tests/fuzz/fuzz.sh regress $$t || fail=1; \
	  else echo "FAIL: fuzz/$$t (does not build, see $(B)/fuzz/build-$$t.log)"; fail=1; fi; \
	 done; exit $$fail
