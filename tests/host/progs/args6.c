// SPDX-License-Identifier: MIT
/*
 * A function with six integer arguments (the last two in %r8/%r9 on
 * x86-64), called 100 times with known values: trace_backends.sh fetches
 * all of them on both backends.
 *
 *   args6
 */
__attribute__((noinline)) int args6(int a, int b, int c, int d, long e,
				    long f);

__attribute__((noinline)) int args6(int a, int b, int c, int d, long e,
				    long f)
{
	__asm__ volatile("");
	return a + b + c + d + (int)e + (int)f;
}

int main(void)
{
	int i, sum = 0;

	for (i = 0; i < 100; i++)
		sum += args6(1, 2, 3, -4, 5000 + i, 600 + i);
	return sum == 0;
}
