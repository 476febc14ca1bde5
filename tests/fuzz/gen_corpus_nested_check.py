#!/usr/bin/env python3
"""tests/fuzz/gen_corpus_nested_check.py - write the seed corpus of the
nested_check fuzz target into tests/fuzz/corpus/nested_check/ (the files
are committed; run this again only when the input format of
tests/fuzz/fuzz_nested_check.c changes).

Input format (see fuzz_nested_check.c): a 20-byte caps header (maxphyaddr,
vaddrbits, flags: bit 0 long mode, bit 1 NPT, scramble seed, u64
cr4_allowed, u64 efer_allowed), then VMCB bytes 000h-0FFh, then VMCB
bytes 400h-6FFh. Seeds: the valid states of tests/host/test_nested_check.c
and one state per rule just across its edge, named after what they show.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "nested_check")

CR0_PE, CR0_MP, CR0_ET, CR0_NE, CR0_WP, CR0_AM = 1, 2, 0x10, 0x20, 1 << 16, 1 << 18
CR0_NW, CR0_CD, CR0_PG = 1 << 29, 1 << 30, 1 << 31
CR4_PSE, CR4_PAE, CR4_PGE, CR4_OSFXSR, CR4_OSXMMEXCPT = 0x10, 0x20, 0x80, 0x200, 0x400
CR4_BASE = 0x7ff | (1 << 16) | (1 << 18) | (1 << 20) | (1 << 21) | (1 << 11)
EFER_SCE, EFER_LME, EFER_LMA, EFER_NXE, EFER_SVME, EFER_FFXSR = 1, 1 << 8, 1 << 10, 1 << 11, 1 << 12, 1 << 14
PAT = 0x0007040600070406


def caps(maxphy=40, vaddr=48, lm=True, npt=True, seed=0, cr4=CR4_BASE,
         efer=EFER_SCE | EFER_NXE | EFER_SVME | EFER_FFXSR):
    return struct.pack("<BBBBQQ", maxphy, vaddr, (1 if lm else 0) | (2 if npt else 0), seed, cr4, efer)


def put(buf, off, fmt, val):
    struct.pack_into(fmt, buf, off, val)


def seg(buf, off, sel, attr, limit, base):
    struct.pack_into("<HHIQ", buf, off, sel, attr, limit, base)


def state(kind):
    ctl = bytearray(256)
    save = bytearray(768)          # VMCB 400h..6FFh
    S = lambda off: off - 0x400   # save offsets as in APM Table B-2
    put(ctl, 0x00C, "<I", (1 << 27) | (1 << 28))   # IOIO, MSR intercepts
    put(ctl, 0x010, "<I", 0x3)                     # VMRUN, VMMCALL
    put(ctl, 0x040, "<Q", 0x100000)                # IOPM
    put(ctl, 0x048, "<Q", 0x104000)                # MSRPM
    put(ctl, 0x058, "<I", 1)                       # ASID
    put(save, S(0x560), "<Q", 0x400)               # DR7
    put(save, S(0x568), "<Q", 0xffff0ff0)          # DR6
    put(save, S(0x570), "<Q", 2)                   # RFLAGS
    put(save, S(0x668), "<Q", PAT)
    if kind == "64":
        put(save, S(0x4d0), "<Q", EFER_SVME | EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE)
        put(save, S(0x558), "<Q", CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG)
        put(save, S(0x550), "<Q", 0x7f000)
        put(save, S(0x548), "<Q", CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT)
        seg(save, S(0x410), 8, 0x29b, 0xffffffff, 0)
        seg(save, S(0x420), 0x10, 0xc93, 0xffffffff, 0)
        put(ctl, 0x090, "<Q", 1)
        put(ctl, 0x0b0, "<Q", 0x200000)
    elif kind == "pae":
        put(save, S(0x4d0), "<Q", EFER_SVME | EFER_NXE)
        put(save, S(0x558), "<Q", CR0_PE | CR0_ET | CR0_PG)
        put(save, S(0x550), "<Q", 0x12345fe0)
        put(save, S(0x548), "<Q", CR4_PAE)
        seg(save, S(0x410), 8, 0xc9b, 0xffffffff, 0)
    elif kind == "32":
        put(save, S(0x4d0), "<Q", EFER_SVME)
        put(save, S(0x558), "<Q", CR0_PE | CR0_ET | CR0_PG | CR0_WP)
        put(save, S(0x550), "<Q", 0x00ffffe7)
        put(save, S(0x548), "<Q", CR4_PSE)
        seg(save, S(0x410), 8, 0xc9b, 0xffffffff, 0)
    else:  # real mode, reset values
        put(save, S(0x4d0), "<Q", EFER_SVME)
        put(save, S(0x558), "<Q", CR0_CD | CR0_NW | CR0_ET)
        seg(save, S(0x410), 0xf000, 0x9b, 0xffff, 0xffff0000)
        put(save, S(0x578), "<Q", 0xfff0)
    return ctl, save, S


def write(name, hdr, ctl, save):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(hdr + bytes(ctl) + bytes(save))


def main():
    for kind in ("64", "pae", "32", "real"):
        ctl, save, S = state(kind)
        write("valid-" + kind, caps(), ctl, save)

    def variant(name, kind, fn, hdr=None):
        ctl, save, S = state(kind)
        fn(ctl, save, S)
        write(name, hdr or caps(), ctl, save)

    def q(buf, off, val):
        put(buf, off, "<Q", val)

    def rq(buf, off):
        return struct.unpack_from("<Q", buf, off)[0]

    variant("paged-real", "real", lambda c, s, S: q(s, S(0x558), CR0_ET | CR0_PG))
    variant("compat-mode", "64", lambda c, s, S: seg(s, S(0x410), 8, 0xc9b, 0xffffffff, 0))
    variant("noncanonical-bases", "64", lambda c, s, S: (seg(s, S(0x400), 0, 0xc93, 0xffff, 0x0000800000000000),
                                                          seg(s, S(0x430), 0, 0xc93, 0xffff, 0x1234567890abcdef)))
    variant("bad-svme", "pae", lambda c, s, S: q(s, S(0x4d0), EFER_NXE))
    variant("bad-cd-nw", "32", lambda c, s, S: q(s, S(0x558), rq(s, S(0x558)) | CR0_NW))
    variant("bad-cr0-high", "64", lambda c, s, S: q(s, S(0x558), rq(s, S(0x558)) | (1 << 32)))
    variant("bad-cr3-maxphy", "64", lambda c, s, S: q(s, S(0x550), 1 << 40))
    variant("bad-cr4-vmxe", "64", lambda c, s, S: q(s, S(0x548), rq(s, S(0x548)) | (1 << 13)))
    variant("bad-dr6-high", "real", lambda c, s, S: q(s, S(0x568), 1 << 40))
    variant("bad-dr7-high", "real", lambda c, s, S: q(s, S(0x560), 1 << 63))
    variant("bad-efer-bit9", "64", lambda c, s, S: q(s, S(0x4d0), rq(s, S(0x4d0)) | (1 << 9)))
    variant("bad-no-long-mode", "64", lambda c, s, S: None, caps(lm=False))
    variant("bad-lm-no-pae", "64", lambda c, s, S: q(s, S(0x548), rq(s, S(0x548)) & ~CR4_PAE))
    variant("bad-lm-no-pe", "64", lambda c, s, S: q(s, S(0x558), rq(s, S(0x558)) & ~CR0_PE))
    variant("bad-cs-l-d", "64", lambda c, s, S: seg(s, S(0x410), 8, 0x69b, 0xffffffff, 0))
    variant("bad-vmrun-intercept", "64", lambda c, s, S: put(c, 0x010, "<I", 2))
    variant("bad-msrpm-top", "64", lambda c, s, S: q(c, 0x048, (1 << 40) - 4096))
    variant("iopm-at-top", "64", lambda c, s, S: q(c, 0x040, (1 << 40) - 12 * 1024))
    variant("bad-eventinj-type", "64", lambda c, s, S: q(c, 0x0a8, (1 << 31) | (5 << 8) | 32))
    variant("bad-eventinj-nmi-vector", "64", lambda c, s, S: q(c, 0x0a8, (1 << 31) | (3 << 8) | 2))
    variant("eventinj-pf", "64", lambda c, s, S: q(c, 0x0a8, (1 << 31) | (1 << 11) | (3 << 8) | 14 | (2 << 32)))
    variant("bad-asid-zero", "pae", lambda c, s, S: put(c, 0x058, "<I", 0))
    variant("bad-ncr3", "64", lambda c, s, S: q(c, 0x0b0, 1 << 52))
    variant("bad-gpat", "64", lambda c, s, S: q(s, S(0x668), 0x0007040600070403))
    variant("caps-maxphy-0", "64", lambda c, s, S: None, caps(maxphy=0, vaddr=0))
    variant("caps-maxphy-255-la57", "64", lambda c, s, S: q(s, S(0x550), 1 << 51), caps(maxphy=255, vaddr=57))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
