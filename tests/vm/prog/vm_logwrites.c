// SPDX-License-Identifier: MIT
/*
 * vm_logwrites: read a device-mapper log-writes log and replay a prefix of
 * it (Documentation/admin-guide/device-mapper/log-writes.rst; the kernel's
 * drivers/md/dm-log-writes.c is the reference for the layout).
 *
 *   vm_logwrites list LOG [FIND]
 *       one line per entry: "INDEX FLAGS SECTOR NR_SECTORS", FLAGS being
 *       letters (F flush, U fua, D discard, M mark, m metadata) or "-";
 *       then "mark=TEXT" for a mark, and "find=VALUE" for each place the
 *       entry's data holds the string FIND, VALUE being the digits that
 *       follow it (how the case finds each checkpoint's metadata text);
 *       the first line, "# entries N sectorsize S", and the last, "# end
 *       at byte B" (how much of the log device it used), are comments.
 *   vm_logwrites replay LOG TARGET FIRST LAST
 *       write entries FIRST..LAST, in log order, onto TARGET (a discard
 *       as zeros), then fsync.  From 0: the state a disk holds when power
 *       is lost right after entry LAST reached it; from the entry after
 *       the last replay: the same, for a target that holds that replay.
 *
 * The layout: at byte 0 the super (magic, version, nr_entries,
 * sectorsize), then from byte sectorsize on, per entry, one sectorsize
 * block holding the entry header (sector, nr_sectors, flags, data_len; a
 * mark's text after it) and, unless the entry is a discard or a mark,
 * nr_sectors blocks of data.  Entry sectors count in sectorsize units of
 * the logged device.
 *
 * Exit 0 done, 1 a bad log or an I/O error (on stderr), 2 bad usage.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_FLUSH_FLAG		(1U << 0)
#define LOG_FUA_FLAG		(1U << 1)
#define LOG_DISCARD_FLAG	(1U << 2)
#define LOG_MARK_FLAG		(1U << 3)
#define LOG_METADATA_FLAG	(1U << 4)
#define WRITE_LOG_VERSION	1ULL
#define WRITE_LOG_MAGIC		0x6a736677736872ULL

struct log_write_super {
	uint64_t magic;
	uint64_t version;
	uint64_t nr_entries;
	uint32_t sectorsize;
} __attribute__((packed));

struct log_write_entry {
	uint64_t sector;
	uint64_t nr_sectors;
	uint64_t flags;
	uint64_t data_len;
};

struct log {
	int fd;
	uint64_t nr_entries;
	uint32_t sectorsize;
	uint64_t pos;		/* byte offset of the next entry's header */
	unsigned char *block;	/* one header block */
	unsigned char *data;	/* an entry's data */
	size_t data_cap;
};

static int die(const char *what, const char *path)
{
	fprintf(stderr, "vm_logwrites: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

static int log_open(struct log *l, const char *path)
{
	struct log_write_super s;

	memset(l, 0, sizeof(*l));
	l->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0)
		return die("open", path);
	if (pread(l->fd, &s, sizeof(s), 0) != sizeof(s))
		return die("read the super of", path);
	if (le64toh(s.magic) != WRITE_LOG_MAGIC ||
	    le64toh(s.version) != WRITE_LOG_VERSION) {
		fprintf(stderr, "vm_logwrites: %s holds no log-writes log (magic %#" PRIx64 ", version %" PRIu64 ")\n",
			path, (uint64_t)le64toh(s.magic), (uint64_t)le64toh(s.version));
		return 1;
	}
	l->nr_entries = le64toh(s.nr_entries);
	l->sectorsize = le32toh(s.sectorsize);
	if (l->sectorsize < 512 || l->sectorsize > 65536 ||
	    (l->sectorsize & (l->sectorsize - 1))) {
		fprintf(stderr, "vm_logwrites: %s: bad sector size %u\n", path,
			l->sectorsize);
		return 1;
	}
	l->pos = l->sectorsize;
	l->block = malloc(l->sectorsize);
	if (!l->block)
		return die("allocate for", path);
	return 0;
}

/*
 * Read the next entry's header into @e and, for a write, its data (with
 * @want_data; else it is skipped).
 */
static int log_next(struct log *l, const char *path, struct log_write_entry *e,
		    size_t *data_len, bool want_data)
{
	size_t len;

	if (pread(l->fd, l->block, l->sectorsize, (off_t)l->pos) != (ssize_t)l->sectorsize)
		return die("read an entry of", path);
	memcpy(e, l->block, sizeof(*e));
	e->sector = le64toh(e->sector);
	e->nr_sectors = le64toh(e->nr_sectors);
	e->flags = le64toh(e->flags);
	e->data_len = le64toh(e->data_len);
	l->pos += l->sectorsize;
	*data_len = 0;
	if (e->flags & (LOG_DISCARD_FLAG | LOG_MARK_FLAG))
		return 0;
	if (e->nr_sectors > (1ULL << 30) / l->sectorsize) {
		fprintf(stderr, "vm_logwrites: %s: entry at byte %" PRIu64 " claims %" PRIu64 " sectors\n",
			path, l->pos - l->sectorsize, (uint64_t)e->nr_sectors);
		return 1;
	}
	len = (size_t)e->nr_sectors * l->sectorsize;
	if (!want_data) {
		l->pos += len;
		return 0;
	}
	if (len > l->data_cap) {
		free(l->data);
		l->data = malloc(len);
		if (!l->data)
			return die("allocate for", path);
		l->data_cap = len;
	}
	if (len && pread(l->fd, l->data, len, (off_t)l->pos) != (ssize_t)len)
		return die("read an entry's data from", path);
	l->pos += len;
	*data_len = len;
	return 0;
}

static void print_finds(const unsigned char *d, size_t len, const char *find)
{
	size_t flen = strlen(find), i, j;

	if (!flen || len < flen)
		return;
	for (i = 0; i + flen <= len; i++) {
		if (memcmp(d + i, find, flen))
			continue;
		j = i + flen;
		printf(" find=");
		while (j < len && isdigit(d[j]))
			putchar(d[j++]);
		i = j - 1;
	}
}

static int list(const char *path, const char *find)
{
	struct log l;
	struct log_write_entry e;
	uint64_t i;
	size_t len;
	char flags[8], *f;

	if (log_open(&l, path))
		return 1;
	printf("# entries %" PRIu64 " sectorsize %u\n", l.nr_entries, l.sectorsize);
	for (i = 0; i < l.nr_entries; i++) {
		if (log_next(&l, path, &e, &len, find != NULL))
			return 1;
		f = flags;
		if (e.flags & LOG_FLUSH_FLAG)
			*f++ = 'F';
		if (e.flags & LOG_FUA_FLAG)
			*f++ = 'U';
		if (e.flags & LOG_DISCARD_FLAG)
			*f++ = 'D';
		if (e.flags & LOG_MARK_FLAG)
			*f++ = 'M';
		if (e.flags & LOG_METADATA_FLAG)
			*f++ = 'm';
		if (f == flags)
			*f++ = '-';
		*f = '\0';
		printf("%" PRIu64 " %s %" PRIu64 " %" PRIu64, i, flags,
		       (uint64_t)e.sector, (uint64_t)e.nr_sectors);
		if (e.flags & LOG_MARK_FLAG) {
			size_t n = e.data_len < l.sectorsize - sizeof(e) ?
				   e.data_len : l.sectorsize - sizeof(e);
			printf(" mark=%.*s", (int)n, (const char *)l.block + sizeof(e));
		}
		if (find)
			print_finds(l.data, len, find);
		putchar('\n');
	}
	printf("# end at byte %" PRIu64 "\n", l.pos);
	return 0;
}

static int replay(const char *path, const char *target, uint64_t first,
		  uint64_t last)
{
	struct log l;
	struct log_write_entry e;
	uint64_t i, writes = 0, bytes = 0, discards = 0;
	size_t len;
	int fd;

	if (log_open(&l, path))
		return 1;
	if (first > last || last >= l.nr_entries) {
		fprintf(stderr, "vm_logwrites: %s has %" PRIu64 " entries: no range %" PRIu64 "..%" PRIu64 "\n",
			path, l.nr_entries, first, last);
		return 1;
	}
	fd = open(target, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return die("open", target);
	for (i = 0; i <= last; i++) {
		off_t at;

		if (log_next(&l, path, &e, &len, i >= first))
			return 1;
		if (i < first)
			continue;
		at = (off_t)(e.sector * l.sectorsize);
		if (e.flags & LOG_DISCARD_FLAG) {
			/* zeros: what a discarded range reads back as here */
			uint64_t left = e.nr_sectors * l.sectorsize;

			if (l.data_cap < 1048576) {
				free(l.data);
				l.data = calloc(1, 1048576);
				if (!l.data)
					return die("allocate for", path);
				l.data_cap = 1048576;
			}
			memset(l.data, 0, l.data_cap);
			while (left) {
				size_t n = left < l.data_cap ? left : l.data_cap;

				if (pwrite(fd, l.data, n, at) != (ssize_t)n)
					return die("write (discard) to", target);
				at += (off_t)n;
				left -= n;
			}
			discards++;
			continue;
		}
		if (!len)
			continue;
		if (pwrite(fd, l.data, len, at) != (ssize_t)len)
			return die("write to", target);
		writes++;
		bytes += len;
	}
	if (fsync(fd))
		return die("fsync", target);
	close(fd);
	printf("replayed entries %" PRIu64 "..%" PRIu64 " of %" PRIu64 ": %" PRIu64 " writes, %" PRIu64 " bytes, %" PRIu64 " discards\n",
	       first, last, l.nr_entries, writes, bytes, discards);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: vm_logwrites list LOG [FIND] | replay LOG TARGET FIRST LAST\n");
	return 2;
}

int main(int argc, char **argv)
{
	char *end1, *end2;
	unsigned long long first, last;

	if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "list"))
		return list(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 6 && !strcmp(argv[1], "replay")) {
		errno = 0;
		first = strtoull(argv[4], &end1, 10);
		last = strtoull(argv[5], &end2, 10);
		if (errno || *end1 || end1 == argv[4] || *end2 || end2 == argv[5])
			return usage();
		return replay(argv[2], argv[3], first, last);
	}
	return usage();
}
