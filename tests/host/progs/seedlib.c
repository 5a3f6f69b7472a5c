// SPDX-License-Identifier: MIT
/*
 * A stand-in for the vendor library of the user's question: dma_from_host
 * and dma_to_host start a transfer, dma_wait polls until it is done.  Each
 * takes a known time (seed_set_delays) so a trace can be checked against
 * it.  Built by the tests, not part of dmakit.
 */
#include <time.h>

static unsigned int start_us, wait_us;

static void spend(unsigned int us)
{
	struct timespec ts = { .tv_sec = us / 1000000,
			       .tv_nsec = (long)(us % 1000000) * 1000 };

	if (us)
		nanosleep(&ts, NULL);
}

void seed_set_delays(unsigned int start, unsigned int wait);
long dma_submit_id(long id, unsigned long len, const char *dev,
		   unsigned int chan);
int dma_complete_id(long id, int status, const char *dev,
		    unsigned int chan);
int dma_from_host(const void *buf, unsigned long len);
int dma_to_host(void *buf, unsigned long len);
int dma_wait(int id);

void seed_set_delays(unsigned int start, unsigned int wait)
{
	start_us = start;
	wait_us = wait;
}

__attribute__((noinline)) int dma_from_host(const void *buf, unsigned long len)
{
	(void)buf;
	spend(start_us);
	return (int)(len & 0xffff) + 1;
}

__attribute__((noinline)) int dma_to_host(void *buf, unsigned long len)
{
	(void)buf;
	spend(start_us);
	return (int)(len & 0xffff) + 1;
}

__attribute__((noinline)) int dma_wait(int id)
{
	spend(wait_us);
	return id > 0 ? 0 : -1;
}

/*
 * Where a driver would have its dmakit:dma_submit / dma_complete
 * tracepoints: the host test puts uprobes named like them here, with the
 * same fields (id, bytes, dev, chan, status) taken from the arguments.
 */
__attribute__((noinline)) long dma_submit_id(long id, unsigned long len,
					     const char *dev, unsigned int chan)
{
	(void)len;
	(void)dev;
	(void)chan;
	return id;
}

__attribute__((noinline)) int dma_complete_id(long id, int status,
					      const char *dev,
					      unsigned int chan)
{
	(void)dev;
	(void)chan;
	return id > 0 ? status : -1;
}
