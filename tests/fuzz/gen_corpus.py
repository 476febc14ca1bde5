#!/usr/bin/env python3
"""tests/fuzz/gen_corpus.py - write the seed corpus of every fuzz target
into tests/fuzz/corpus/NAME/ (the files are committed; run this again
only when an input format changes).

Each seed is a small, valid-looking input in the target's format (see the
comment at the top of tests/fuzz/fuzz_NAME.c), chosen to reach the main
paths at once: a full multiboot block, a typical command line, a page
walk per paging format, common instructions, and so on. Seeds are named
after what they contain.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def u8(v): return struct.pack("<B", v & 0xff)
def u16(v): return struct.pack("<H", v & 0xffff)
def u32(v): return struct.pack("<I", v & 0xffffffff)
def u64(v): return struct.pack("<Q", v & 0xffffffffffffffff)


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ------------------------------------------------------------ multiboot2

def tag(t, payload):
    body = u32(t) + u32(8 + len(payload)) + payload
    return body + b"\0" * (-len(body) % 8)


def mb2(tags, end=True, total=None):
    body = b"".join(tags) + (tag(0, b"") if end else b"")
    size = 8 + len(body) if total is None else total
    return u32(size) + u32(0) + body


def mmap_tag(entries, esz=24, ver=0):
    p = u32(esz) + u32(ver)
    for base, length, typ in entries:
        p += (u64(base) + u64(length) + u32(typ)).ljust(esz, b"\0")
    return tag(6, p)


RSDP1 = b"RSD PTR " + bytes([0x5a]) + b"BOCHS " + bytes([0]) + u32(0x7fe1000)
RSDP2 = RSDP1 + u32(36) + u64(0x7fe2000) + bytes([0x33, 0, 0, 0])


def gen_mb2():
    full = [
        tag(1, b"console=com1 trace=exit\0"),
        tag(2, b"GRUB 2.06\0"),
        tag(3, u32(0x200000) + u32(0x210000) + b"hello.elf name=hello mem=32M\0"),
        tag(3, u32(0x300000) + u32(0x300000) + b"\0"),
        tag(4, u32(639) + u32(0x1fbc00)),
        mmap_tag([(0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0xf0000, 0x10000, 2),
                  (0x100000, 0x7ee0000, 1), (0x7fe0000, 0x20000, 3), (0xfffc0000, 0x40000, 2)]),
        tag(12, u64(0x7f9e018)),
        tag(14, RSDP1),
        tag(15, RSDP2),
        tag(17, u32(48) + u32(1) + b"\0" * 48),
        tag(18, b""),
        tag(21, u32(0x100000)),
    ]
    write("mb2", "full", mb2(full))
    write("mb2", "minimal", mb2([]))
    write("mb2", "efi32-unknown-tags", mb2([tag(11, u32(0x7f00000)), tag(99, b"xyz"), tag(8, b"\0" * 24)]))
    write("mb2", "mmap-overlaps", mb2([mmap_tag([(0x1000, 0x10000, 1), (0x8000, 0x1000, 5),
                                                  (0x9000, 0x100000, 4), (0xffffffffffff0000, 0x20000, 1)],
                                                 esz=32, ver=1)]))
    write("mb2", "bad-no-end-tag", mb2([tag(1, b"x\0")], end=False))
    write("mb2", "bad-short-mmap", mb2([tag(6, u32(20) + u32(0) + b"\0" * 20)]))
    write("mb2", "bad-unterminated", mb2([tag(1, b"abc")]))
    write("mb2", "bad-total-size", mb2([tag(1, b"abc\0")], total=12))


# ------------------------------------------------------------ multiboot1

PHYS = 0x1000  # tests/fuzz/fuzz_mb1.c FZ_PHYS


def mb1(flags, fields, mem):
    info = bytearray(72)
    struct.pack_into("<I", info, 0, flags)
    for off, v in fields.items():
        struct.pack_into("<I", info, off, v)
    return bytes(info) + mem


def gen_mb1():
    # memory image at PHYS: strings, module list, memory map
    mem = bytearray(0x1000)  # a whole page: strings are read up to the page end
    def put(off, b):
        mem[off:off + len(b)] = b
        return PHYS + off
    cmd = put(0x000, b"console=com1 quantum=5000\0")
    name = put(0x040, b"QEMU 8.2\0")
    m1 = put(0x080, b"guest.elf name=g1 mem=16M\0")
    mods = put(0x100, u32(0x400000) + u32(0x401000) + u32(m1) + u32(0) +
               u32(0x500000) + u32(0x500000) + u32(0) + u32(0))
    mmap = b""
    for base, length, typ in [(0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0x100000, 0x7ee0000, 1), (0xfffc0000, 0x40000, 2)]:
        mmap += u32(20) + u64(base) + u64(length) + u32(typ)
    mm = put(0x200, mmap)
    full = mb1(0x1 | 0x4 | 0x8 | 0x40 | 0x200,
               {4: 639, 8: 0x1fbc00, 16: cmd, 20: 2, 24: mods, 44: len(mmap), 48: mm, 64: name}, bytes(mem))
    write("mb1", "full", full)
    write("mb1", "meminfo-only", mb1(0x1, {4: 640, 8: 0x3c00}, b""))
    write("mb1", "cmdline-absent", mb1(0x4 | 0x200, {16: 0, 64: name}, bytes(mem)))
    write("mb1", "bad-mmap-entry", mb1(0x40, {44: 12, 48: mm}, bytes(mem[:0x200]) + u32(8) + b"\0" * 8))
    write("mb1", "bad-unreadable", mb1(0x4, {16: 0x12345678}, bytes(mem)))
    write("mb1", "many-modules", mb1(0x8, {20: 40, 24: mods}, bytes(mem)))


# ------------------------------------------------------------ cmdline

def gen_cmdline():
    lines = {
        "typical": b'b u2=50 s8="a b" l1=exit,mmu -- guest args here',
        "sizes": b"sz=16M sz4=0x10kB sz=1TiB sz4=4G u4=0xffffffff",
        "enums-lists": b"e1=BLUE e4=reboot l8=all,none,bb l1=all l8=CcC,a",
        "errors": b'u8=18446744073709551616 u1=256 u2=9 b=maybe nosuch=1 s1=x bad=3 s32="open',
        "quotes-tabs": b'\ts32="x=y z"\r\nb4=off  "q"=1 s8=a"b" --\t',
        "nul": b"b4 u1=7\0u1=8",
    }
    for name, data in lines.items():
        write("cmdline", name, data)


# ------------------------------------------------------------ gwalk

def gw_header(fmt, b1=0x7f, b2=0x0b, b3=0x01, pkru=0, cr3=0x1000):
    # b0: format; b1: WP PSE PGE SMEP SMAP PKE NXE; b2: CPL AC 1G LA57cap PSE36 AMD in-memory PDPTEs
    # b3: MAXPHYADDR index, bit 3: raw CR3
    return u8(fmt) + u8(b1) + u8(b2) + u8(b3) + u32(pkru) + u64(cr3)


def gw_path(la, entries):
    """entries: (flags, value) from the top level down; flag 1 pulls the
    address to page (flags >> 1) % 8 of the fake memory, 0x10 sets P."""
    out = u8(1) + u64(la)
    for fl, v in entries:
        out += u8(fl) + u64(v)
    return out


def gw_walk(la, acc, view=False):
    return u8(3 if view else 2) + u64(la) + u8(acc)


def gen_gwalk():
    rwu = 0x7  # P RW US
    # 4-level, 4 KiB page; then walks: read, write, user fetch, peek
    la4 = 0x00007f1234567abc
    s = gw_header(3, cr3=0x1000) + gw_path(la4, [(1 | (2 << 1), rwu), (1 | (3 << 1), rwu), (1 | (4 << 1), rwu),
                                                 (0, 0x12345000 | rwu)])
    s += gw_walk(la4, 0) + gw_walk(la4, 1 | 0x10) + gw_walk(la4, 2, True) + gw_walk(la4, 8)
    write("gwalk", "4level-4k", s)
    # 4-level, 2 MiB and 1 GiB pages
    s = gw_header(3) + gw_path(la4, [(1 | (2 << 1), rwu), (1 | (3 << 1), rwu), (0, 0x40000000 | 0x80 | rwu)])
    s += gw_walk(la4, 1, True) + gw_path(0x40000000, [(1 | (2 << 1), rwu), (0, 0x80000000 | 0x80 | 0x3)])
    s += gw_walk(0x40000000, 4 | 1)
    write("gwalk", "4level-large", s)
    # 5-level
    la5 = 0x00ab_cdef_1234_5678 & 0x00ffffffffffffff
    s = gw_header(4, cr3=0x2000) + gw_path(la5, [(1 | (3 << 1), rwu), (1 | (4 << 1), rwu), (1 | (5 << 1), rwu),
                                                 (1 | (6 << 1), rwu), (0, 0x9000 | rwu | (1 << 63))])
    s += gw_walk(la5 | 0xff00000000000000, 2) + gw_walk(la5, 0x40)
    write("gwalk", "5level", s)
    # PAE with PDPTE registers, 4 KiB and 2 MiB
    la = 0xc0345678
    s = gw_header(2, cr3=0x1000) + gw_path(la, [(1 | (2 << 1), 0x1), (1 | (3 << 1), rwu), (0, 0x5000 | rwu)])
    s += gw_walk(la, 0, True) + gw_walk(la, 1 | 0x10)
    write("gwalk", "pae", s)
    # 32-bit paging, 4 KiB and 4 MiB (PSE)
    la = 0x80412345
    s = gw_header(1, cr3=0x1000) + gw_path(la, [(1 | (2 << 1), rwu), (0, 0x7000 | rwu)])
    s += gw_walk(la, 0) + gw_path(0x40400000, [(0, 0x00c00000 | 0x80 | rwu | (0x3 << 13))]) + gw_walk(0x40412345, 2, True)
    write("gwalk", "32bit", s)
    # paging off, non-canonical, reserved bits
    write("gwalk", "off", gw_header(0) + gw_walk(0x123456789, 0))
    s = gw_header(3) + gw_path(la4, [(1 | (2 << 1), rwu | (1 << 51)), (0, 0)]) + gw_walk(la4, 0) + gw_walk(0x0000800000000000, 0)
    write("gwalk", "reserved-noncanonical", s)


# ------------------------------------------------------------ x86 decoder

DEC = {
    "mov-rm": "89 44 24 08",
    "lea-sib-disp32": "8d 84 8b 78 56 34 12",
    "rip-relative": "48 8b 05 10 00 00 00",
    "rex-imm64": "48 b8 88 77 66 55 44 33 22 11",
    "prefixes-string": "f3 66 67 a5",
    "lock-add": "f0 48 01 08",
    "group3-test": "f7 c1 78 56 34 12",
    "0f38": "66 0f 38 00 c1",
    "0f3a-imm": "66 0f 3a 0f c1 08",
    "vex2": "c5 f8 77",
    "vex3-imm": "c4 e3 79 0f c1 08",
    "evex": "62 f1 7c 48 58 c1",
    "3dnow": "0f 0f c1 b4",
    "moffs": "a1 88 77 66 55 44 33 22 11",
    "enter": "c8 10 00 01",
    "far-jmp": "ea 78 56 34 12 08 00",
    "mov-cr": "0f 22 d8",
    "xop": "8f e9 78 c2 c1",
    "cmpxchg16b": "f0 48 0f c7 0e",
    "too-long": "66 " * 14 + "90",
    "16bit-bp-si": "8b 42 10",
}


def gen_x86_dec():
    for name, hexs in DEC.items():
        code = bytes.fromhex(hexs)
        # selector: bit 7 all modes, bit 6 AMD; low bits the single mode
        write("x86_dec", name, u8(0x80) + code)
    write("x86_dec", "amd-64bit-66-call", u8(0x40 | 2) + bytes.fromhex("66 e8 34 12"))
    write("x86_dec", "16bit-only", u8(0) + bytes.fromhex("c4 06 34 12"))


# ------------------------------------------------------------ x86 emulator

REAL, VM86, PROT, LONG = 0, 1, 2, 3


def emu(mode, code, segs=None, gprs=None, rip=0x1000, rflags=0x2, amd=False, cs_l=False, cs_db=True,
        absent=0, ro=0, mmio=0, races=0, rep_budget=8, data=b"", nocx=False):
    """The header of tests/fuzz/fuzz_x86_emu.c setup()."""
    out = u8(mode | (4 if amd else 0) | (0x40 if nocx else 0)) + u8(rep_budget - 1)
    for i in range(6):
        k = (0x20 if (cs_db if i == 1 else True) else 0) | (0x40 if (i == 1 and cs_l) else 0)
        if mode in (REAL, VM86):
            k &= ~0x20
        base = 0 if not segs else segs[i]
        lim_sel = 0 if mode in (REAL, VM86) else 1  # 0xffff or 0xffffffff
        out += u8(k) + u8(lim_sel) + u8(base >> 8)
    g = gprs or {}
    for i in range(16):
        v = g.get(i, 0x2000 + 0x100 * i)
        if v < 0x8000:
            out += u8(v >> 8) + u8(v)
        else:
            out += u8(0x80) + u64(v)
    out += u16(rip) + u16(rflags) + u16(absent) + u16(ro) + u16(mmio) + u8(races)
    return out + bytes.fromhex(code).ljust(15, b"\x90") + data


def gen_x86_emu():
    write("x86_emu", "prot32-mov-store", emu(PROT, "89 03"))
    write("x86_emu", "long64-add-lock", emu(LONG, "f0 48 01 03", cs_l=True, cs_db=False, races=3))
    write("x86_emu", "long64-rep-movsb", emu(LONG, "f3 a4", cs_l=True, cs_db=False, gprs={1: 20, 6: 0x3000, 7: 0x4000}))
    write("x86_emu", "real-push-mem", emu(REAL, "ff 36 34 12", segs=[0x1000, 0, 0x3000, 0x1000, 0, 0], rip=0x100))
    write("x86_emu", "prot16-cmpxchg", emu(PROT, "0f b1 0f", cs_db=False))
    write("x86_emu", "long64-cmpxchg16b", emu(LONG, "48 0f c7 0e", cs_l=True, cs_db=False, gprs={6: 0x3000}))
    write("x86_emu", "compat-in-out", emu(LONG, "ec ee e5 80 66 ef", gprs={2: 0x3f8}))
    write("x86_emu", "prot32-bt-reg", emu(PROT, "0f ab 03", gprs={0: 0x7ffffff0}))
    write("x86_emu", "prot32-rep-stos-fault", emu(PROT, "f3 ab", gprs={1: 100, 7: 0x3ff0}, absent=1 << 4))
    write("x86_emu", "long64-xchg-mmio", emu(LONG, "48 87 03", cs_l=True, cs_db=False, mmio=1 << 2))
    write("x86_emu", "prot32-movs-nocx", emu(PROT, "66 a5", nocx=True))
    write("x86_emu", "long64-ud", emu(LONG, "0f 0b", cs_l=True, cs_db=False))


# ------------------------------------------------------------ pt

def pt_va(a, b, c):
    return u8(a) + u8(b) + u8(c)


def pt_map(va, size_sel, pb, pa_pages, bb, max_level_sel=0, extra=b""):
    kind = 0 | (max_level_sel << 2)
    return u8(kind) + va + size_sel + u8(pb) + u32(pa_pages) + u8(bb) + extra


def pt_unmap(va, size_sel):
    return u8(2) + va + size_sel


def gen_pt():
    # table limit, then: map 1 GiB aligned (1G leaf), map 4 MiB misaligned, unmap in the middle, lookups
    s = u8(40)
    s += pt_map(pt_va(0x04, 0, 0), u8(0x80), 1, 0x40000, 0x03, 2)          # 1 GiB, max level 3
    s += pt_map(pt_va(0x00, 0x01, 3), u8(0x41), 0, 0x1234, 0x01, 2)       # 4 MiB at 4 KiB
    s += pt_unmap(pt_va(0x04, 0x02, 5), u8(0x02))                          # split the 1 GiB leaf
    s += u8(3) + pt_va(0x04, 0x02, 5) + u16(0)
    s += pt_map(pt_va(0x04, 0x00, 0), u8(0x40), 1, 0x80000, 0x82, 1)      # 2 MiB over it
    write("pt", "map-split-remap", s)
    s = u8(4) + pt_map(pt_va(0x01, 0, 0), u8(0xc0) + u16(3000), 0, 0x100, 0x01, 0)  # E_NOMEM
    s += pt_unmap(pt_va(0x01, 0, 0), u8(0x81))
    write("pt", "nomem", s)
    s = u8(10) + u8(0xc0) + pt_va(1, 2, 3) + u8(3) + u8(1) + u32(0x10) + u8(1) + u8(1)  # misaligned va
    write("pt", "misaligned", s)


# ------------------------------------------------------------ pmm

def pmm_range(k, vals):
    return u8(k) + b"".join(vals)


def gen_pmm():
    # usable: 640K low, 1M..2G, 4G..5G; reserved: kernel image, a module; lowpool 4M
    # get_range(): k, a u32 base, then per k's bits (see fuzz_pmm.c)
    use = [pmm_range(0x4, [u32(0), u16(0), u16(159)]),             # [0, 640K)
           pmm_range(0x9, [u32(0x100), u32(0x7ff00)]),             # 1M + ~2G (base | 1M)
           pmm_range(0xa, [u32(0x100000), u32(0x40000)])]          # 4G + 1G
    res = [pmm_range(0x4, [u32(0), u16(0x100), u16(0x3ff)]),       # 1M + 4M image
           pmm_range(0x10, [u32(0), u16(0x800), u8(3), u16(0x123)])]
    hdr = u8(len(use) - 1) + u8(len(res)) + b"".join(use) + b"".join(res) + u8(4 << 1)
    ops = b""
    for order, zone in [(0, 0), (9, 0), (0, 1), (3, 1), (18, 0)]:
        ops += u8(0) + u8(order + 20 * zone)
    ops += u8(2) + u8(2) + u8(3) + u8(0) + u8(0) + u16(0x100)       # zeroed; below 1M
    ops += u8(4) + u8(0) + u8(4) + u8(1) + u8(6) + u8(0) + u8(0) + u8(0) + u8(7)
    ops += u8(6) + u8(5) + u8(3) + u32(0x12345)                      # bad free
    write("pmm", "typical", hdr + ops)
    # tiny: one range, no room below 4 GiB for anything but the metadata
    hdr = u8(0) + u8(0) + pmm_range(0xa, [u32(0x100001), u32(0x100)]) + u8(0)
    write("pmm", "above-4g-only", hdr + u8(0) + u8(0))
    hdr = u8(0) + u8(1) + pmm_range(0x1, [u32(0x100), u8(20)]) + pmm_range(0x44, [u32(0), u16(0x101), u16(0), u16(10)]) + u8(1) + u32(0x3000)
    write("pmm", "small-lowpool", hdr + (u8(0) + u8(20)) * 8 + u8(7) + u8(0))


def main():
    gen_mb2()
    gen_mb1()
    gen_cmdline()
    gen_gwalk()
    gen_x86_dec()
    gen_x86_emu()
    gen_pt()
    gen_pmm()
    for t in sorted(os.listdir(OUT)):
        print(f"{t}: {len(os.listdir(os.path.join(OUT, t)))} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
