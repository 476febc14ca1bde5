/*
 * kernel/config.c - Umbra's option table. Adding an option: a field in
 * struct umbra_config, its default below, a row in the table, a line in
 * the README.
 */
#include "kernel/config.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/selftest.h"
#include "kernel/shutdown.h"
#include "kernel/string.h"
#include "kernel/trace.h"

static const struct umbra_config defaults = {
	.console = "com1",
	.baud = 115200,
	.lowpool = 4 * MiB,
	.exit_mode = EXIT_AUTO,
	.trace = 0,
	.selftest = SELFTEST_NONE,
	.quantum_us = 10000,
};

struct umbra_config umbra_config;

static const char *const exit_choices[] = {"auto", "halt", "emu", "reboot", NULL};
static const char *const selftest_choices[] = {"none", "ud", "pf", "gp", "stack", "panic", NULL};

#define F(field) OPT_FIELD(struct umbra_config, field)
static const struct opt_desc options[] = {
	{"console", OPT_STRING, F(console), .help = "serial console: com1..com4, 0xPORT or none"},
	{"baud", OPT_UINT, F(baud), .min = 50, .max = 115200, .help = "console speed in baud"},
	{"lowpool", OPT_SIZE, F(lowpool), .min = 0, .max = 1ULL << 31,
	 .help = "frames kept below 4 GiB for 32-bit-addressable structures (PAE roots, AP trampoline)"},
	{"exit", OPT_ENUM, F(exit_mode), .choices = exit_choices,
	 .help = "at the end: auto (emulator exit ports when detected, else halt), halt, emu, reboot"},
	{"trace", OPT_LIST, F(trace), .choices = trace_category_names, .help = "trace categories to print"},
	{"selftest", OPT_ENUM, F(selftest), .choices = selftest_choices,
	 .help = "trigger a deliberate failure after boot (tests the fault dump)"},
	{"quantum", OPT_UINT, F(quantum_us), .min = 100, .max = 1000000,
	 .help = "time slice in microseconds for VMs sharing a CPU"},
	{"cpus", OPT_UINT, F(cpus), .min = 0, .max = MAX_CPUS,
	 .help = "how many CPUs to use (0 = every CPU the ACPI MADT lists)"},
	{"help", OPT_BOOL, F(help), .help = "print this list of options at boot"},
};
#undef F

static void config_error(void *ctx, const char *msg)
{
	kprintf("umbra: command line: %s\n", msg);
}

static void help_putc(void *ctx, char c)
{
	kprintf("%c", c);
}

void config_parse(const char *line)
{
	umbra_config = defaults;
	cmdline_apply(options, ARRAY_SIZE(options), &umbra_config, line, strlen(line), config_error, NULL, NULL,
		      NULL);
	if (umbra_config.help) {
		kprintf("umbra: options:\n");
		cmdline_print_help(options, ARRAY_SIZE(options), &defaults, help_putc, NULL);
	}
	shutdown_set_mode(umbra_config.exit_mode);
	trace_set_mask(umbra_config.trace);
}

static int console_port_of(const char *s, u16 *port)
{
	static const u16 com[] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
	if (!strcmp(s, "none")) {
		*port = 0;
		return E_OK;
	}
	if (!strncmp(s, "com", 3) && s[3] >= '1' && s[3] <= '4' && !s[4]) {
		*port = com[s[3] - '1'];
		return E_OK;
	}
	u64 v;
	if (!strncmp(s, "0x", 2) && !cmdline_parse_uint(s, strlen(s), &v) && v > 0 && v <= 0xfff8) {
		*port = (u16)v;
		return E_OK;
	}
	return E_INVAL;
}

void config_apply_console(void)
{
	u16 port;
	if (console_port_of(umbra_config.console, &port)) {
		kprintf("umbra: command line: option 'console': value '%s' is not com1..com4, 0xPORT or none; "
			"keeping the default com1\n",
			umbra_config.console);
		port = COM1_PORT;
	}
	if (port == COM1_PORT && umbra_config.baud == 115200)
		return; /* already set up by console_init_early */
	if (port)
		kprintf("umbra: console moves to port %#x at %lu baud\n", port, umbra_config.baud);
	if (console_configure(port, (u32)umbra_config.baud) == E_NOENT) {
		console_configure(COM1_PORT, 115200);
		kprintf("umbra: command line: option 'console': no UART answers at port %#x; keeping com1\n", port);
	}
}
