# tests/guests/guests.mk - the test guests (included by the top Makefile).
#
#   make guests    build/guests/NAME.elf for every guest in GUEST_NAMES
#
# Each guest is tests/guests/NAME.c, plus tests/guests/NAME.asm if present,
# linked with the guest library (tests/guests/lib/) and the kernel's own
# printf engine and string functions compiled for 32-bit.

GUEST_NAMES := hello cpuid longmode paging32 pae triplefault spin beyondram strio ctxswitch hypercall platform access forklike largepages lapic hostile-selfmap canary hostile-rsvd randpaging hostile-tables hostile-svm hostile-triple3 hostile-spaces hostile-ports smpwake ptshare nested64 nestedpae nested32 nestednonpt mmioforms hostile-nested
GUEST_ELFS := $(patsubst %,$(B)/guests/%.elf,$(GUEST_NAMES))
GB := $(B)/guests/obj

# Freestanding 32-bit flags, each for a reason:
#  -m32                     guests start in 32-bit protected mode
#  -ffreestanding           no hosted libc (and no builtin printf)
#  -nostdinc -isystem ...   only the compiler's own headers (stdint, stdarg...)
#  -fno-pic -fno-pie        linked at a fixed address (1 MiB)
#  -fno-stack-protector     no TLS canary
#  -mno-sse -mgeneral-regs-only  no FPU/SSE state: nothing to set up
#  -fno-asynchronous-unwind-tables  no .eh_frame
#  -fno-strict-aliasing     page tables are type-punned
#  -fno-delete-null-pointer-checks  address 0 is ordinary guest RAM
GCFLAGS := -m32 -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-fno-pic -fno-pie -fno-stack-protector -mno-sse -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fno-strict-aliasing \
	-fno-delete-null-pointer-checks -I.
GNASMFLAGS := -f elf32 -g -F dwarf
GLDFLAGS := -m elf_i386 -nostdlib -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments -T tests/guests/lib/guest.ld

GUEST_LIB_OBJS := $(GB)/tests/guests/lib/entry.asm.o \
	$(GB)/tests/guests/lib/lib.c.o $(GB)/tests/guests/lib/paging.c.o \
	$(GB)/kernel/fmt.c.o $(GB)/kernel/string.c.o \
	$(GB)/tests/guests/lib/smp.c.o $(GB)/tests/guests/lib/ap_tramp.asm.o

guests: $(GUEST_ELFS)

$(GB)/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	@$(CC) $(GCFLAGS) -MMD -MP -c $< -o $@

$(GB)/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM32  $<"
	@$(NASM) $(GNASMFLAGS) -MD $(@:.o=.d) $< -o $@

# The nested-SVM guests (thin NAME.c files including nested-common.c) share
# their assembly: VMRUN stubs and L2 code.
NESTED_GUEST_NAMES := nested64 nestedpae nested32 nestednonpt hostile-nested bench-nested

# $(call guest_objs,NAME): the guest's own objects.
guest_objs = $(GB)/tests/guests/$(1).c.o \
	$(if $(wildcard tests/guests/$(1).asm),$(GB)/tests/guests/$(1).asm.o) \
	$(if $(filter $(1),$(NESTED_GUEST_NAMES)),$(GB)/tests/guests/nested-common.asm.o)

define GUEST_RULE
$(B)/guests/$(1).elf: $(call guest_objs,$(1)) $(GUEST_LIB_OBJS) tests/guests/lib/guest.ld
	@echo "  LD      $$@"
	@$$(LD) $$(GLDFLAGS) -o $$@ $(call guest_objs,$(1)) $$(GUEST_LIB_OBJS)
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call GUEST_RULE,$(g))))

-include $(wildcard $(GB)/*/*.d $(GB)/*/*/*.d $(GB)/*/*/*/*.d)

# Run every guest bare on QEMU and check how it ends (a self-check of the
# guests, not of Umbra).
.PHONY: check-guests-bare
check-guests-bare: guests
	@tests/guests/check-bare.sh $(GUEST_NAMES)

# Benchmark guests (tests/guests/bench-*.c, run by `make bench`): built like
# the others, not run by check-guests-bare (their output has timings).
BENCH_GUEST_NAMES := bench-exits bench-paging bench-nested
$(foreach g,$(BENCH_GUEST_NAMES),$(eval $(call GUEST_RULE,$(g))))
guests: $(patsubst %,$(B)/guests/%.elf,$(BENCH_GUEST_NAMES))
