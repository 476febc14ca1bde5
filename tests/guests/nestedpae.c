/*
 * tests/guests/nestedpae.c - nested SVM: a 32-bit L1 with PAE paging (EFER.LME=0)
 * and PAE-format NPT.
 * The body is tests/guests/nested-common.c (L2 code: nested-common.asm).
 */
#define NESTED_MODE NM_PAE
#include "tests/guests/nested-common.c"
