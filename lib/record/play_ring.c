// SPDX-License-Identifier: MIT
/*
 * dmakit_play() into a dmakit.ko card: the recording streamed into the
 * card's ring set up host to card (include/dmakit/tx.h).
 *
 * Each buffer is read from the recording straight into a free ring buffer
 * (the pages the card reads: no copy after the read), checked against the
 * recording's CRC there, and published with the plain CRC32C of its bytes
 * so the card's own CRC of what it read is compared when it comes back.
 * The pace is kept by bytes from the first buffer, as for other targets.
 * A full ring waits: nothing is dropped.  What counts as played is what
 * the card confirmed taking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dmakit/ioctl.h>
#include "play_priv.h"

/* waiting for the card to take what was published, beyond its rate's time */
#define PLAY_DRAIN_MS		10000
#define PLAY_GET_MS		100	/* one wait for a free buffer */

/*
 * Is @spec a dmakit.ko card?  A character device (not given as
 * "chardev:") that answers dmakit's INFO ioctl.
 */
bool play_ring_target(const char *spec)
{
	struct dmakit_info info;
	struct stat sb;
	bool card;
	int fd;

	if (!spec || spec[0] != '/' || stat(spec, &sb) || !S_ISCHR(sb.st_mode))
		return false;
	fd = open(spec, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	card = !ioctl(fd, DMAKIT_IOC_INFO, &info) &&
	       info.abi_version == DMAKIT_IOCTL_ABI_VERSION;
	close(fd);
	return card;
}

int play_ring_open(struct player *p, const char *path, char *err,
		   size_t errlen)
{
	struct dmakit_tx_info info;
	int ret;

	p->rep->card = true;
	ret = dmakit_tx_open(&p->tx, path, err, errlen);
	if (ret)
		return ret;
	dmakit_tx_info(p->tx, &info);
	if (info.bufsize < p->hdr.bufsize)
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s: its ring buffers hold %u bytes, the recording's %u (set /sys/class/dmakit/%s/ring_bufsize to %u or more)",
				   path, info.bufsize, p->hdr.bufsize,
				   strrchr(path, '/') + 1, p->hdr.bufsize);
	p->depth = info.nbufs;
	p->rep->depth = info.nbufs;
	p->card_rate = info.rate;
	p->ring_bytes = (uint64_t)info.nbufs * info.bufsize;
	return 0;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ULL),
		.tv_nsec = (long)(ns % 1000000000ULL),
	};

	nanosleep(&ts, NULL);	/* a signal ends it: the loop looks again */
}

/* Fill and publish one buffer; false when there is nothing more to send. */
static bool send_one(struct player *p, uint64_t *published)
{
	struct dmakit_idx_entry e;
	struct dmakit_tx_buf b;
	int ret;

	ret = dmakit_tx_get(p->tx, &b, PLAY_GET_MS);
	if (ret == -ETIMEDOUT || ret == -EINTR)
		return true;
	if (ret) {
		play_fail(p, DMAKIT_PLAY_TARGET_ERROR, ret, "%s: %s",
			  p->t.path, ret == -ENODEV ? "the card is gone" :
			  dmakit_strerror(ret));
		return false;
	}
	if (!play_next_entry(p, &e) || !play_read_buffer(p, &e, b.data))
		return false;
	if (!p->started) {
		p->started = true;
		p->t0 = dmakit_now_ns();
	}
	b.len = e.len;
	b.seq = e.seq;
	b.dev_ts = e.dev_ts;
	b.has_crc = true;
	b.crc32c = dmakit_crc32c(0, b.data, e.len);
	/* the last one: the card's idle time after it is no underrun */
	b.end = ++*published == p->rep->total_buffers;
	ret = dmakit_tx_publish(p->tx, &b);
	if (ret) {
		play_fail(p, DMAKIT_PLAY_TARGET_ERROR, ret, "%s: %s",
			  p->t.path, ret == -ENODEV ? "the card is gone" :
			  dmakit_strerror(ret));
		return false;
	}
	p->queued_bytes += e.len;
	return true;
}

static void report_card(struct player *p)
{
	struct dmakit_play_report *rep = p->rep;
	struct dmakit_tx_stats st;

	dmakit_tx_stats(p->tx, &st);
	rep->buffers = st.completed;
	rep->bytes = st.bytes;
	rep->underruns = st.underruns;
	rep->cut = st.cut;
	rep->card_errors = st.errors + st.truncated;
	rep->card_crc_checked = st.crc_checked;
	rep->card_crc_mismatches = st.crc_mismatches;
}

void play_ring_loop(struct player *p)
{
	const uint64_t period = (uint64_t)(p->o.progress_ms ?
					   p->o.progress_ms : 500) * 1000000ULL;
	struct dmakit_play_report *rep = p->rep;
	uint64_t published = 0, drain_ms;
	int ret;

	ret = dmakit_tx_start(p->tx);
	if (ret) {
		play_fail(p, DMAKIT_PLAY_TARGET_ERROR, ret,
			  "%s: cannot start its stream: %s", p->t.path,
			  dmakit_strerror(ret));
		return;
	}
	p->next_progress = dmakit_now_ns() + period;
	while (!p->failed && !p->reading_done && !p->corrupt) {
		uint64_t now = dmakit_now_ns();

		if (play_stop_requested(p)) {
			p->stopping = true;
			rep->result = DMAKIT_PLAY_INTERRUPTED;
			rep->error = -EINTR;
			snprintf(rep->message, sizeof(rep->message),
				 "stopped by request");
			break;
		}
		if (now >= p->next_progress) {
			report_card(p);
			play_progress(p, rep->bytes, (uint32_t)(published -
				      rep->buffers), false);
			p->next_progress = now + period;
		}
		if (p->rate && p->started) {
			uint64_t due = p->t0 + (uint64_t)((double)p->queued_bytes *
							  1e9 / (double)p->rate);

			if (due > now) {
				sleep_ns(due - now < PLAY_POLL_NS ? due - now :
					 PLAY_POLL_NS);
				continue;
			}
		}
		if (!send_one(p, &published))
			break;
	}

	/* what was published goes to the card, in a bounded time */
	drain_ms = PLAY_DRAIN_MS;
	if (p->card_rate)
		drain_ms += p->ring_bytes * 1000 / p->card_rate;
	ret = dmakit_tx_drain(p->tx, drain_ms > INT32_MAX ? INT32_MAX :
				     (int)drain_ms);
	while (ret == -EINTR)	/* a second signal: the bound still holds */
		ret = dmakit_tx_drain(p->tx, PLAY_DRAIN_MS);
	if (ret)
		play_fail(p, DMAKIT_PLAY_TARGET_ERROR, ret,
			  "%s: %s", p->t.path, ret == -ETIMEDOUT ?
			  "the card did not take what was published in time: the rest was cut" :
			  ret == -ENODEV ? "the card is gone" :
			  dmakit_strerror(ret));
	dmakit_tx_stop(p->tx);
	report_card(p);
	if (rep->cut)
		play_fail(p, DMAKIT_PLAY_TARGET_ERROR, -EIO,
			  "%s: %llu buffers were cut before the card took them",
			  p->t.path, (unsigned long long)rep->cut);
	if (rep->card_errors || rep->card_crc_mismatches)
		play_fail(p, DMAKIT_PLAY_TARGET_ERROR, -EIO,
			  "%s: the card reported %llu buffers in error or taken in part, %llu with a CRC other than the recording's",
			  p->t.path, (unsigned long long)rep->card_errors,
			  (unsigned long long)rep->card_crc_mismatches);
	if (p->corrupt && !p->failed) {
		rep->result = DMAKIT_PLAY_CORRUPT;
		rep->error = p->corrupt_error;
		snprintf(rep->message, sizeof(rep->message), "%s",
			 p->corrupt_message);
	}
	p->rep->passes = p->reading_done && !p->corrupt && !p->failed &&
			 !p->stopping ? p->o.loops : p->pass;
	rep->seconds = p->started ?
		       (double)(dmakit_now_ns() - p->t0) / 1e9 : 0;
	play_progress(p, rep->bytes, 0, true);
}
