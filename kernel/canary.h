/*
 * kernel/canary.h - the secrecy canary ("Containment"): 64 bytes of
 * Umbra's own memory a VM must never be able to read.
 *
 * The canary is the 16-byte tag "UMBRA-CANARY-TAG" followed by 48 bytes
 * derived from RDTSC at boot. One copy lives in Umbra's .data, one in a
 * kzalloc'd heap object (never freed). The test guest tests/guests/canary.c
 * scans every guest-physical page it can reach for the tag and must never
 * find it. The tag is assembled at run time from masked immediates, so the
 * Umbra image itself holds no contiguous copy of it: only the live canaries
 * carry it.
 */
#ifndef UMBRA_KERNEL_CANARY_H
#define UMBRA_KERNEL_CANARY_H

/* Build both copies and print "umbra: secrecy canary at <hpa> ...".
 * Call once, after kmem_init. */
void canary_init(void);

#endif
