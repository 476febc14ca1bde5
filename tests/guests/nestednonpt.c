/*
 * tests/guests/nestednonpt.c - nested SVM: an L1 without NPT (NP_ENABLE=0): the L2
 * runs on page tables the L1 owns; #PF and MOV CR3 intercepted.
 * The body is tests/guests/nested-common.c (L2 code: nested-common.asm).
 */
#define NESTED_MODE NM_NONPT
#include "tests/guests/nested-common.c"
