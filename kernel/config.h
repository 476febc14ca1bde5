/*
 * kernel/config.h - Umbra's own command-line options (see README.md,
 * "Command line"). Parsed once at boot from the multiboot command line.
 */
#ifndef UMBRA_KERNEL_CONFIG_H
#define UMBRA_KERNEL_CONFIG_H

#include "kernel/types.h"

struct umbra_config {
	char console[16];   /* com1..com4, 0xPORT, none */
	u64 baud;
	u64 lowpool;        /* bytes set aside below 4 GiB */
	u32 exit_mode;      /* enum exit_mode */
	u64 trace;          /* trace categories (bit mask) */
	u32 selftest;       /* enum selftest */
	u64 quantum_us;     /* time slice between VMs sharing a CPU */
	u64 cpus;           /* CPUs to use, 0 = all */
	bool help;
};

extern struct umbra_config umbra_config;

/* Parse @line into umbra_config, printing a clear message for every bad
 * option (the option keeps its default). */
void config_parse(const char *line);

/* Switch the console as console= and baud= say. */
void config_apply_console(void);

#endif
