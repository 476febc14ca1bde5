/*
 * tests/guests/nested64.c - nested SVM: a 64-bit L1 (long mode, 4-level paging;
 * VMRUN from 64-bit code) with 4-level NPT.
 * The body is tests/guests/nested-common.c (L2 code: nested-common.asm).
 */
#define NESTED_MODE NM_64
#include "tests/guests/nested-common.c"
