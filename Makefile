# Umbra - one non-recursive Makefile.
#
#   make            build/umbra.elf (multiboot2 + multiboot1 headers) and build/umbra32.elf
#   make iso        build/umbra.iso (GRUB, BIOS + UEFI)
#   make run        boot the demo ISO in QEMU (KVM when usable, else TCG -cpu max)
#   make run-intel  boot the demo ISO in Bochs (tigerlake, VMX)
#   make test       host unit tests, then emulator tests; ends with "N passed, N failed"
#   make check-host host unit tests only
#
# Every target that needs Debian packages installs them first (tools/deps.sh).

CROSS_COMPILE ?=
CC      := $(CROSS_COMPILE)gcc
LD      := $(CROSS_COMPILE)ld
OBJCOPY := $(CROSS_COMPILE)objcopy
NM      := $(CROSS_COMPILE)nm
NASM    ?= nasm
HOSTCC  ?= gcc
B       := build

# Freestanding kernel flags, each for a reason:
#  -ffreestanding           no hosted libc; kernel/string.c provides memset & co.
#  -nostdinc -isystem ...   only the compiler's own headers (stdint, stdarg...)
#  -mno-red-zone            exceptions and NMIs land on our stacks: no red zone
#  -mcmodel=kernel          linked in the top 2 GiB
#  -mgeneral-regs-only      never touch FPU/SSE state (it belongs to guests)
#  -fno-pic -fno-pie        absolute higher-half addresses
#  -fno-stack-protector     no TLS canary in a freestanding kernel
#  -fno-omit-frame-pointer  backtraces walk RBP
#  -fno-strict-aliasing     page tables and guest memory are type-punned
KCFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-mno-red-zone -mcmodel=kernel -mgeneral-regs-only -fno-pic -fno-pie \
	-fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -I.
# make TRACE_COMPILED=MASK: trace categories compiled in (kernel/trace.h; default all)
KCFLAGS += $(if $(TRACE_COMPILED),-DTRACE_COMPILED=$(TRACE_COMPILED))
KLDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments
NASMFLAGS := -f elf64 -g -F dwarf -I./

KSRCS_C   := $(wildcard kernel/*.c mm/*.c svm/*.c vmx/*.c)
KSRCS_ASM := $(wildcard boot/*.asm kernel/*.asm svm/*.asm vmx/*.asm)
KOBJS := $(patsubst %.c,$(B)/k/%.o,$(KSRCS_C)) $(patsubst %.asm,$(B)/k/%.o,$(KSRCS_ASM))

.PHONY: all iso run run-intel test check-host check-emu deps clean guests demo-iso
all: deps-build $(B)/umbra.elf $(B)/umbra32.elf

# Every entry point installs what it needs first (no-op when present).
.PHONY: deps-build deps-run deps-test
deps-build:
	@tools/deps.sh build
deps-run:
	@tools/deps.sh build qemu bochs
deps-test:
	@tools/deps.sh build qemu uefi bochs host

# ---------------------------------------------------------------- ISOs
iso: $(B)/umbra.iso
$(B)/umbra.iso: $(B)/umbra.elf tools/umbra-iso
	tools/umbra-iso -o $@

# The demo: several guests side by side (README, "make run").
DEMO_GUESTS := \
	-g "$(B)/guests/hello.elf name=hello mem=32M -- demo" \
	-g "$(B)/guests/cpuid.elf name=cpuid mem=32M" \
	-g "$(B)/guests/longmode.elf name=longmode-tdp mem=64M" \
	-g "$(B)/guests/longmode.elf name=longmode-shadow paging=shadow mem=64M" \
	-g "$(B)/guests/paging32.elf name=paging32-shadow paging=shadow mem=32M" \
	-g "$(B)/guests/pae.elf name=pae-shadow paging=shadow mem=32M" \
	-g "$(B)/guests/pae.elf name=pae-tdp mem=32M" \
	-g "$(B)/guests/nestedpae.elf name=nested-pae-l1 nested=on mem=64M" \
	-g "$(B)/guests/smpwake.elf name=smp-2vcpu vcpus=2 mem=32M" \
	-g "$(B)/guests/triplefault.elf name=triplefault mem=16M"
demo-iso: $(B)/demo.iso
$(B)/demo.iso: $(B)/umbra.elf guests tools/umbra-iso
	tools/umbra-iso -o $@ -c "$(UMBRA_ARGS)" $(DEMO_GUESTS)

# KVM when /dev/kvm is usable and the host CPU has SVM or VMX to pass on
# (nested virtualization), else TCG -cpu max. QEMU gets RUN_SMP CPUs (the
# host's, at least 2 and at most 8), and Umbra uses every one of them.
RUN_SMP ?= $(shell n=$$(nproc); [ $$n -lt 2 ] && n=2; [ $$n -gt 8 ] && n=8; echo $$n)
run: deps-run all $(B)/demo.iso
	@if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'svm|vmx' /proc/cpuinfo; then \
	  echo "make run: using KVM (-cpu host)"; \
	  qemu-system-x86_64 -enable-kvm -cpu host -M pc -m 6G -smp $(RUN_SMP) -cdrom $(B)/demo.iso -display none \
	    -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 || true; \
	else \
	  echo "make run: no usable KVM with nested virtualization: QEMU TCG -cpu max, $(RUN_SMP) CPUs"; \
	  tools/umbra-run --emu qemu --mem 6G --smp $(RUN_SMP) --timeout 600 $(B)/demo.iso || true; \
	fi
run-intel: deps-run all $(B)/demo.iso
	tools/umbra-run --emu bochs --cpu tigerlake --smp 2 --timeout 600 $(B)/demo.iso || true

# ---------------------------------------------------------------- tests
# Host unit tests first, then the emulator tests (two at a time); one final
# line "N passed, N failed".
test: deps-test all guests
	@$(MAKE) -k --no-print-directory check-host > $(B)/check-host.log 2>&1; rc=$$?; \
	 grep -E '^(PASS|FAIL)' $(B)/check-host.log; \
	 hp=$$(grep -c '^PASS: host/' $(B)/check-host.log); hf=$$(grep -c '^FAIL: host/' $(B)/check-host.log); \
	 if [ $$rc -ne 0 ] && [ $$hf -eq 0 ]; then hf=1; echo "FAIL: host tests did not build (see $(B)/check-host.log)"; fi; \
	 $(MAKE) -k --no-print-directory fuzz-regress > $(B)/fuzz-regress.log 2>&1; \
	 grep -E '^(PASS|FAIL): fuzz/' $(B)/fuzz-regress.log; \
	 hp=$$((hp + $$(grep -c '^PASS: fuzz/' $(B)/fuzz-regress.log))); \
	 hf=$$((hf + $$(grep -c '^FAIL: fuzz/' $(B)/fuzz-regress.log))); \
	 tests/emu/run --extra-passed $$hp --extra-failed $$hf
check-emu: all guests
	tests/emu/run

$(B)/k/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(B)/k/%.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) $< -o $@

# Two-pass link: the second pass embeds the function symbols of the first
# so backtraces print names. .ksyms sits after .text, so function addresses
# do not move between passes (checked below).
$(B)/k/ksyms_empty.o: tools/gensyms.sh
	@mkdir -p $(dir $@)
	tools/gensyms.sh $(NM) - > $(B)/k/ksyms_empty.asm
	$(NASM) -f elf64 $(B)/k/ksyms_empty.asm -o $@

$(B)/umbra.elf: $(KOBJS) $(B)/k/ksyms_empty.o linker.ld tools/gensyms.sh
	$(LD) $(KLDFLAGS) -T linker.ld -o $(B)/umbra.pass1.elf $(KOBJS) $(B)/k/ksyms_empty.o
	tools/gensyms.sh $(NM) $(B)/umbra.pass1.elf > $(B)/k/ksyms.asm
	$(NASM) -f elf64 $(B)/k/ksyms.asm -o $(B)/k/ksyms.o
	$(LD) $(KLDFLAGS) -T linker.ld -o $@ $(KOBJS) $(B)/k/ksyms.o
	@$(NM) -n $(B)/umbra.pass1.elf | grep -i ' t ' > $(B)/k/syms1.txt; \
	 $(NM) -n $@ | grep -i ' t ' > $(B)/k/syms2.txt; \
	 cmp -s $(B)/k/syms1.txt $(B)/k/syms2.txt || { echo "ksyms: function addresses moved between link passes"; exit 1; }
	@size=$$(stat -c %s $@); echo "umbra.elf: $$size bytes on disk"

# elf32-i386 copy for `qemu-system-x86_64 -kernel` (multiboot1 path).
$(B)/umbra32.elf: $(B)/umbra.elf
	$(OBJCOPY) -O elf32-i386 $< $@

# ---------------------------------------------------------------- host tests
# Each tests/host/NAME.mk adds NAME to HOST_TESTS and sets HOST_SRCS_NAME.
HOST_TESTS :=
include $(wildcard tests/host/*.mk)
include $(wildcard tests/soak.mk)
include $(wildcard tests/fuzz/fuzz.mk)
HOSTCFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-DUMBRA_HOST -I.
$(B)/host/test_%: FORCE_HOSTDEPS
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $(HOST_SRCS_$*) -o $@
.PHONY: FORCE_HOSTDEPS
FORCE_HOSTDEPS:

check-host: $(addprefix $(B)/host/test_,$(HOST_TESTS))
	@fail=0; for t in $(HOST_TESTS); do \
	  if $(B)/host/test_$$t > $(B)/host/test_$$t.log 2>&1; then echo "PASS: host/$$t"; \
	  else echo "FAIL: host/$$t (see $(B)/host/test_$$t.log)"; tail -20 $(B)/host/test_$$t.log; fail=1; fi; done; exit $$fail

# ---------------------------------------------------------------- guests
include $(wildcard tests/guests/guests.mk)
include $(wildcard bench/bench.mk)

clean:
	rm -rf $(B)

-include $(KOBJS:.o=.d)
