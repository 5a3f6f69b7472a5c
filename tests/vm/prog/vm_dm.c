// SPDX-License-Identifier: MIT
/*
 * vm_dm: the few device-mapper operations the power-loss case needs, by
 * the DM ioctls on /dev/mapper/control (dmsetup is dynamically linked;
 * the guest has no shared libraries).
 *
 *   vm_dm targets                     registered target types, one a line
 *   vm_dm create NAME TARGET LEN ARGS one-target table "0 LEN TARGET ARGS"
 *                                     (LEN in 512-byte sectors), resumed;
 *                                     prints the device node (/dev/dm-N)
 *   vm_dm message NAME TEXT           a target message ("mark NAME" for
 *                                     log-writes)
 *   vm_dm remove NAME
 *
 * Exit 0 done, 1 the kernel refused (its errno on stderr), 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/dm-ioctl.h>

#define IOBUF_SIZE	16384

/* A dm_ioctl header for @name in an @size buffer, followed by the payload. */
static struct dm_ioctl *dm_begin(void *buf, size_t size, const char *name)
{
	struct dm_ioctl *io = buf;

	memset(buf, 0, size);
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = (uint32_t)size;
	io->data_start = sizeof(*io);
	if (name)
		snprintf(io->name, sizeof(io->name), "%s", name);
	return io;
}

static int dm_call(int ctl, unsigned long cmd, struct dm_ioctl *io,
		   const char *what)
{
	if (ioctl(ctl, cmd, io) == 0)
		return 0;
	fprintf(stderr, "vm_dm: %s %s: %s\n", what, io->name, strerror(errno));
	return -1;
}

static int list_targets(int ctl)
{
	static char buf[IOBUF_SIZE];
	struct dm_ioctl *io = dm_begin(buf, sizeof(buf), NULL);
	struct dm_target_versions *t;
	size_t off;

	if (dm_call(ctl, DM_LIST_VERSIONS, io, "list versions"))
		return 1;
	off = io->data_start;
	for (;;) {
		t = (struct dm_target_versions *)(buf + off);
		if (off + sizeof(*t) > sizeof(buf))
			break;
		printf("%s\n", t->name);
		if (!t->next)
			break;
		off += t->next;
	}
	return 0;
}

static int create(int ctl, const char *name, const char *target,
		  unsigned long long len, const char *args)
{
	static char buf[IOBUF_SIZE];
	struct dm_ioctl *io = dm_begin(buf, sizeof(buf), name);
	struct dm_target_spec *spec;
	size_t params_len = strlen(args) + 1;

	if (sizeof(*io) + sizeof(*spec) + params_len + 8 > sizeof(buf)) {
		fprintf(stderr, "vm_dm: table arguments too long\n");
		return 2;
	}
	if (dm_call(ctl, DM_DEV_CREATE, io, "create"))
		return 1;

	io = dm_begin(buf, sizeof(buf), name);
	io->target_count = 1;
	spec = (struct dm_target_spec *)(buf + io->data_start);
	spec->sector_start = 0;
	spec->length = len;
	snprintf(spec->target_type, sizeof(spec->target_type), "%s", target);
	memcpy(spec + 1, args, params_len);
	/* the next spec would start here, 8-byte aligned */
	spec->next = (uint32_t)((sizeof(*spec) + params_len + 7) & ~7UL);
	if (dm_call(ctl, DM_TABLE_LOAD, io, "load table"))
		goto undo;

	io = dm_begin(buf, sizeof(buf), name);	/* suspend without flag: resume */
	if (dm_call(ctl, DM_DEV_SUSPEND, io, "resume"))
		goto undo;
	printf("/dev/dm-%u\n", minor(io->dev));
	return 0;
undo:
	io = dm_begin(buf, sizeof(buf), name);
	dm_call(ctl, DM_DEV_REMOVE, io, "remove");
	return 1;
}

static int message(int ctl, const char *name, const char *text)
{
	static char buf[IOBUF_SIZE];
	struct dm_ioctl *io = dm_begin(buf, sizeof(buf), name);
	struct dm_target_msg *msg = (struct dm_target_msg *)(buf + io->data_start);

	if (io->data_start + sizeof(*msg) + strlen(text) + 1 > sizeof(buf)) {
		fprintf(stderr, "vm_dm: message too long\n");
		return 2;
	}
	msg->sector = 0;
	strcpy(msg->message, text);
	return dm_call(ctl, DM_TARGET_MSG, io, "message") ? 1 : 0;
}

static int remove_dev(int ctl, const char *name)
{
	static char buf[IOBUF_SIZE];
	struct dm_ioctl *io = dm_begin(buf, sizeof(buf), name);

	return dm_call(ctl, DM_DEV_REMOVE, io, "remove") ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: vm_dm targets | create NAME TARGET LEN ARGS | message NAME TEXT | remove NAME\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	char *end;
	unsigned long long len;
	int ctl, ret;

	ctl = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		fprintf(stderr, "vm_dm: /dev/mapper/control: %s (no device-mapper in this kernel?)\n",
			strerror(errno));
		return 1;
	}
	if (!strcmp(cmd, "targets") && argc == 2) {
		ret = list_targets(ctl);
	} else if (!strcmp(cmd, "create") && argc == 6) {
		errno = 0;
		len = strtoull(argv[4], &end, 10);
		if (errno || *end || !len) {
			close(ctl);
			return usage();
		}
		ret = create(ctl, argv[2], argv[3], len, argv[5]);
	} else if (!strcmp(cmd, "message") && argc == 4) {
		ret = message(ctl, argv[2], argv[3]);
	} else if (!strcmp(cmd, "remove") && argc == 3) {
		ret = remove_dev(ctl, argv[2]);
	} else {
		ret = usage();
	}
	close(ctl);
	return ret;
}
