/*
 * tests/guests/nested32.c - nested SVM: a 32-bit L1 with 2-level (non-PAE) paging
 * and 2-level NPT.
 * The body is tests/guests/nested-common.c (L2 code: nested-common.asm).
 */
#define NESTED_MODE NM_32
#include "tests/guests/nested-common.c"
