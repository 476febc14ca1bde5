#include "tests/guests/lib/guest.h"
GUEST_NAME("probe");
void guest_main(void)
{
	for (int i = 0; i < 3; i++) {
		u64 t0 = rdtsc(); u64 m = rdmsr(0x10); u64 t1 = rdtsc();
		printf("%llx %llx %llx\n", t0, m, t1);
		for (volatile int j = 0; j < 100000; j++);
	}
	wrmsr(0x10, 0x100000000ull);
	u64 t0 = rdtsc(); u64 m = rdmsr(0x10);
	printf("after write: %llx %llx\n", t0, m);
}
