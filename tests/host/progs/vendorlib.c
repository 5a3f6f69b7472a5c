// SPDX-License-Identifier: MIT
/*
 * A vendor DMA library of the shape the user's is (seeds/000): several
 * channels, dma_to_host()/dma_from_host() start a transfer by setting a
 * channel's DMA_DESC_ENABLE, dma_wait() polls it until the "card" clears
 * it, here 50-500 us after the start (chosen at random per transfer).
 * Thread-safe: each channel is used by one thread at a time.  Built by the
 * tests, not part of dmakit.
 */
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define VENDOR_CHANNELS 64

struct channel {
	volatile int desc_enable;	/* the register dma_wait polls */
	uint64_t done_at;		/* when the card clears it */
	unsigned int seed;
};

static struct channel channels[VENDOR_CHANNELS];

int dma_to_host(int chan, void *buf, uint64_t card_addr, size_t bytes);
int dma_from_host(int chan, const void *buf, uint64_t card_addr,
		  size_t bytes);
int dma_wait(int chan);

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int start(int chan, size_t bytes)
{
	struct channel *c;

	if (chan < 0 || chan >= VENDOR_CHANNELS || !bytes)
		return -1;
	c = &channels[chan];
	if (!c->seed)
		c->seed = (unsigned int)chan * 2654435761u + 1;
	c->done_at = now_ns() + 50000 + (uint64_t)(rand_r(&c->seed) % 450001);
	c->desc_enable = 1;
	return 0;
}

__attribute__((noinline)) int dma_to_host(int chan, void *buf,
					  uint64_t card_addr, size_t bytes)
{
	(void)buf;
	(void)card_addr;
	return start(chan, bytes);
}

__attribute__((noinline)) int dma_from_host(int chan, const void *buf,
					    uint64_t card_addr, size_t bytes)
{
	(void)buf;
	(void)card_addr;
	return start(chan, bytes);
}

/* The card: the register reads 0 once the transfer's time has passed. */
static int read_desc_enable(struct channel *c)
{
	if (c->desc_enable && now_ns() >= c->done_at)
		c->desc_enable = 0;
	return c->desc_enable;
}

__attribute__((noinline)) int dma_wait(int chan)
{
	struct channel *c;

	if (chan < 0 || chan >= VENDOR_CHANNELS)
		return -1;
	c = &channels[chan];
	while (read_desc_enable(c))
		sched_yield();
	return 0;
}
