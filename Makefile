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
KLDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments
NASMFLAGS := -f elf64 -g -F dwarf

KSRCS_C   := $(wildcard kernel/*.c mm/*.c svm/*.c vmx/*.c)
KSRCS_ASM := $(wildcard boot/*.asm kernel/*.asm svm/*.asm vmx/*.asm)
KOBJS := $(patsubst %.c,$(B)/k/%.o,$(KSRCS_C)) $(patsubst %.asm,$(B)/k/%.o,$(KSRCS_ASM))

.PHONY: all iso run run-intel test check-host deps clean guests
all: $(B)/umbra.elf $(B)/umbra32.elf

deps:
	@tools/deps.sh build

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

clean:
	rm -rf $(B)

-include $(KOBJS:.o=.d)
