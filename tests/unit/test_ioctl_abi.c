// SPDX-License-Identifier: MIT
/*
 * The ioctl ABI (include/uapi/dmakit/ioctl.h): fixed sizes and offsets,
 * no implicit padding, ioctl numbers that encode their structure, and the
 * library's handling of device files that are not dmakit cards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <dmakit.h>
#include <dmakit/ioctl.h>
#include "t.h"

#define FIELD_END(type, f) (offsetof(type, f) + sizeof(((type *)0)->f))

static void info_layout(void)
{
	T_EQ(sizeof(struct dmakit_info), 128);
	T_EQ(offsetof(struct dmakit_info, abi_version), 0);
	T_EQ(offsetof(struct dmakit_info, flags), 4);
	T_EQ(offsetof(struct dmakit_info, backend), 8);
	T_EQ(offsetof(struct dmakit_info, card_mem_size), 24);
	T_EQ(offsetof(struct dmakit_info, ring_map_size), 32);
	T_EQ(offsetof(struct dmakit_info, ring_nbufs), 40);
	T_EQ(offsetof(struct dmakit_info, ring_bufsize), 44);
	T_EQ(offsetof(struct dmakit_info, rate), 48);
	T_EQ(offsetof(struct dmakit_info, dma_mask_bits), 56);
	T_EQ(offsetof(struct dmakit_info, irq_type), 60);
	T_EQ(offsetof(struct dmakit_info, irq_vectors), 64);
	T_EQ(offsetof(struct dmakit_info, max_xfers), 68);
	T_EQ(offsetof(struct dmakit_info, reserved), 72);
	T_EQ(FIELD_END(struct dmakit_info, reserved), sizeof(struct dmakit_info));
}

static void attach_layout(void)
{
	T_EQ(sizeof(struct dmakit_attach), 32);
	T_EQ(offsetof(struct dmakit_attach, mode), 0);
	T_EQ(offsetof(struct dmakit_attach, slot), 4);
	T_EQ(offsetof(struct dmakit_attach, start_pos), 8);
	T_EQ(offsetof(struct dmakit_attach, reserved), 16);
	T_EQ(FIELD_END(struct dmakit_attach, reserved),
	     sizeof(struct dmakit_attach));
}

static void xfer_layout(void)
{
	T_EQ(sizeof(struct dmakit_xfer), 64);
	T_EQ(offsetof(struct dmakit_xfer, user_addr), 0);
	T_EQ(offsetof(struct dmakit_xfer, len), 8);
	T_EQ(offsetof(struct dmakit_xfer, card_addr), 16);
	T_EQ(offsetof(struct dmakit_xfer, dir), 24);
	T_EQ(offsetof(struct dmakit_xfer, flags), 28);
	T_EQ(offsetof(struct dmakit_xfer, id), 32);
	T_EQ(offsetof(struct dmakit_xfer, reserved), 40);
	T_EQ(FIELD_END(struct dmakit_xfer, reserved), sizeof(struct dmakit_xfer));

	T_EQ(sizeof(struct dmakit_xfer_wait), 48);
	T_EQ(offsetof(struct dmakit_xfer_wait, id), 0);
	T_EQ(offsetof(struct dmakit_xfer_wait, timeout_ms), 8);
	T_EQ(offsetof(struct dmakit_xfer_wait, status), 12);
	T_EQ(offsetof(struct dmakit_xfer_wait, bytes_done), 16);
	T_EQ(offsetof(struct dmakit_xfer_wait, reserved), 24);
	T_EQ(FIELD_END(struct dmakit_xfer_wait, reserved),
	     sizeof(struct dmakit_xfer_wait));
}

/* Every number carries its structure's size and the right direction. */
static void ioctl_numbers(void)
{
	T_EQ(_IOC_TYPE(DMAKIT_IOC_INFO), DMAKIT_IOC_MAGIC);
	T_EQ(_IOC_SIZE(DMAKIT_IOC_INFO), sizeof(struct dmakit_info));
	T_EQ(_IOC_DIR(DMAKIT_IOC_INFO), _IOC_READ);
	T_EQ(_IOC_SIZE(DMAKIT_IOC_ATTACH), sizeof(struct dmakit_attach));
	T_EQ(_IOC_DIR(DMAKIT_IOC_ATTACH), _IOC_READ | _IOC_WRITE);
	T_EQ(_IOC_SIZE(DMAKIT_IOC_XFER_SUBMIT), sizeof(struct dmakit_xfer));
	T_EQ(_IOC_DIR(DMAKIT_IOC_XFER_SUBMIT), _IOC_READ | _IOC_WRITE);
	T_EQ(_IOC_SIZE(DMAKIT_IOC_XFER_WAIT), sizeof(struct dmakit_xfer_wait));
	T_EQ(_IOC_DIR(DMAKIT_IOC_XFER_WAIT), _IOC_READ | _IOC_WRITE);
	T_EQ(_IOC_DIR(DMAKIT_IOC_START), _IOC_NONE);
	T_EQ(_IOC_DIR(DMAKIT_IOC_STOP), _IOC_NONE);
	T_EQ(_IOC_DIR(DMAKIT_IOC_KICK), _IOC_NONE);
	/* all distinct */
	T_ASSERT(DMAKIT_IOC_START != DMAKIT_IOC_STOP);
	T_ASSERT(DMAKIT_IOC_STOP != DMAKIT_IOC_KICK);
	T_ASSERT(_IOC_NR(DMAKIT_IOC_XFER_SUBMIT) != _IOC_NR(DMAKIT_IOC_XFER_WAIT));
}

/* The driver's hardware records live in kernel headers; the ring's here. */
static void ring_abi_still_64_bytes(void)
{
	T_EQ(sizeof(struct dmakit_desc), 64);
	T_EQ(sizeof(struct dmakit_ring_consumer), 64);
}

static void open_not_a_card(void)
{
	char err[DMAKIT_ERRMSG_MAX] = "";
	struct dmakit_dev *dev = NULL;

	/* a character device that does not know our ioctls */
	T_EQ(dmakit_open(&dev, "/dev/null", err, sizeof(err)), -ENODEV);
	T_ASSERT(dev == NULL);
	T_ASSERT(strstr(err, "not a dmakit device") != NULL);

	err[0] = '\0';
	T_EQ(dmakit_open(&dev, "/dev/dmakit-no-such-card", err, sizeof(err)),
	     -ENOENT);
	T_ASSERT(strstr(err, "/dev/dmakit-no-such-card") != NULL);
	T_ASSERT(strstr(err, "No such file") != NULL);
}

int main(void)
{
	T_RUN(info_layout);
	T_RUN(attach_layout);
	T_RUN(xfer_layout);
	T_RUN(ioctl_numbers);
	T_RUN(ring_abi_still_64_bytes);
	T_RUN(open_not_a_card);
	return t_exit();
}
