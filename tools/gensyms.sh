#!/usr/bin/env bash
# tools/gensyms.sh NM ELF - print a NASM file holding ELF's function symbols,
# sorted by address, for kernel/ksyms.c (backtraces with names).
# With ELF = "-" it prints an empty table (the first link pass).
set -euo pipefail
nm_cmd=$1 elf=$2
{
	if [ "$elf" != "-" ]; then
		"$nm_cmd" -n --defined-only "$elf" | awk '$2 ~ /^[tT]$/ && $3 !~ /^(\.|isr_stub_[0-9])/ { print $1, $3 }'
	fi
} | awk '
BEGIN { n = 0 }
{ addr[n] = $1; name[n] = $2; n++ }
END {
	print "section .ksyms progbits alloc noexec nowrite align=8"
	print "global ksyms_count, ksyms_addr, ksyms_name"
	print "ksyms_count: dq " n
	print "ksyms_addr:"
	for (i = 0; i < n; i++) print "\tdq 0x" addr[i]
	print "ksyms_name:"
	for (i = 0; i < n; i++) print "\tdq .s" i
	for (i = 0; i < n; i++) print ".s" i ": db \"" name[i] "\", 0"
}'
