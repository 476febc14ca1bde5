/*
 * kernel/loader.h - loads a multiboot (v1) kernel image into a VM's RAM
 * and prepares the entry state QEMU's -kernel gives on bare metal:
 * 32-bit flat protected mode, paging off, EAX = 0x2BADB002, EBX = the
 * guest-physical address of a multiboot information block.
 */
#ifndef UMBRA_KERNEL_LOADER_H
#define UMBRA_KERNEL_LOADER_H

#include "kernel/backend.h"
#include "kernel/types.h"

struct gmem;

/* Guest-physical layout of the data Umbra writes for the guest. */
#define LOADER_GDT_GPA 0x500
#define LOADER_MBI_GPA 0x1000
#define LOADER_DATA_END 0x2000

/* Load the image @img[0..@len) into @m and fill @bs. @cmdline is the
 * guest's multiboot command line. On error returns E_INVAL and writes a
 * clear reason to @err. */
int loader_load_multiboot(struct gmem *m, const u8 *img, u64 len, const char *cmdline,
			  struct vcpu_boot_state *bs, char *err, size_t errlen);

#endif
