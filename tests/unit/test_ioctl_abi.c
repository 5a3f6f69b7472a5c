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
	T_EQ(offsetof(struct dmakit_info, ring_dir), 72);
	T_EQ(offsetof(struct dmakit_info, reserved0), 76);
	T_EQ(offsetof(struct dmakit_info, reserved), 80);
	T_EQ(FIELD_END(struct dmakit_info, reserved), sizeof(struct dmakit_info));
}

static void ring_setup_layout(void)
{
	T_EQ(sizeof(struct dmakit_ring_setup), 32);
	T_EQ(offsetof(struct dmakit_ring_setup, dir), 0);
	T_EQ(offsetof(struct dmakit_ring_setup, reserved0), 4);
	T_EQ(offsetof(struct dmakit_ring_setup, reserved), 8);
	T_EQ(FIELD_END(struct dmakit_ring_setup, reserved),
	     sizeof(struct dmakit_ring_setup));
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

/*
 * The numbers are the ABI: each is pinned to the value a built program
 * carries (written out here from _IOC's layout: dir<<30 | size<<16 |
 * magic<<8 | nr), so renumbering or resizing anything fails this test.
 */
static void ioctl_numbers(void)
{
	T_EQ(DMAKIT_IOC_MAGIC, 0xD3);
	T_EQ(DMAKIT_IOCTL_ABI_VERSION, 1);
	T_EQ_U64(DMAKIT_IOC_INFO, 0x8080D300u);		/* R,  128 bytes, 0x00 */
	T_EQ_U64(DMAKIT_IOC_ATTACH, 0xC020D301u);	/* RW,  32 bytes, 0x01 */
	T_EQ_U64(DMAKIT_IOC_START, 0x0000D302u);	/* none,         0x02 */
	T_EQ_U64(DMAKIT_IOC_STOP, 0x0000D303u);		/* none,         0x03 */
	T_EQ_U64(DMAKIT_IOC_KICK, 0x0000D304u);		/* none,         0x04 */
	T_EQ_U64(DMAKIT_IOC_RING_SETUP, 0x4020D305u);	/* W,   32 bytes, 0x05 */
	T_EQ_U64(DMAKIT_IOC_XFER_SUBMIT, 0xC040D310u);	/* RW,  64 bytes, 0x10 */
	T_EQ_U64(DMAKIT_IOC_XFER_WAIT, 0xC030D311u);	/* RW,  48 bytes, 0x11 */
}

/* The ring's constants as user space and the driver compile them. */
static void ring_constants(void)
{
	T_EQ_U64(DMAKIT_RING_MAGIC, 0x31474e52544b4d44ULL);
	T_ASSERT(!memcmp(&(uint64_t){ DMAKIT_RING_MAGIC }, "DMKTRNG1", 8));
	T_EQ(DMAKIT_RING_VERSION, 1);
	T_EQ(DMAKIT_RING_CTRL_SIZE, 4096);
	T_EQ(DMAKIT_RING_MAX_CONSUMERS, 16);
	T_EQ(DMAKIT_POLICY_DROP, 0);
	T_EQ(DMAKIT_POLICY_BLOCK, 1);
	T_EQ(DMAKIT_STATE_IDLE, 0);
	T_EQ(DMAKIT_STATE_RUNNING, 1);
	T_EQ(DMAKIT_STATE_STOPPED, 2);
	T_EQ(DMAKIT_STATE_ERROR, 3);
	T_EQ(DMAKIT_CONSUMER_FREE, 0);
	T_EQ(DMAKIT_CONSUMER_RELIABLE, 1);
	T_EQ(DMAKIT_CONSUMER_LOSSY, 2);
	T_EQ(DMAKIT_DESC_F_GAP, 1);
	T_EQ(DMAKIT_DESC_F_DMA_ERR, 2);
	T_EQ(DMAKIT_DESC_F_TRUNC, 4);
	T_EQ(DMAKIT_DESC_F_CRC, 8);
	T_EQ(DMAKIT_DESC_F_END, 16);
	T_EQ(DMAKIT_DESC_F_UNDERRUN, 32);
	T_EQ(DMAKIT_DESC_F_CUT, 64);
	T_EQ(DMAKIT_DIR_C2H, 0);
	T_EQ(DMAKIT_DIR_H2C, 1);
}

/* The driver's hardware records live in kernel headers; the ring's here. */
static void ring_abi_still_64_bytes(void)
{
	T_EQ(sizeof(struct dmakit_desc), 64);
	T_EQ(sizeof(struct dmakit_ring_consumer), 64);
	/* the H2C fields filled the producer line's padding: nothing moved */
	T_EQ(offsetof(struct dmakit_ring_ctrl, tx_done),
	     offsetof(struct dmakit_ring_ctrl, claim));
	T_EQ(offsetof(struct dmakit_ring_ctrl, engine_waiting),
	     offsetof(struct dmakit_ring_ctrl, producer_waiting));
	T_EQ(offsetof(struct dmakit_ring_ctrl, stream_id), 104);
	T_EQ(offsetof(struct dmakit_ring_ctrl, direction), 112);
	T_EQ(offsetof(struct dmakit_ring_ctrl, underruns), 120);
	T_EQ(offsetof(struct dmakit_ring_ctrl, consumers), 128);
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
	T_RUN(ring_setup_layout);
	T_RUN(xfer_layout);
	T_RUN(ioctl_numbers);
	T_RUN(ring_constants);
	T_RUN(ring_abi_still_64_bytes);
	T_RUN(open_not_a_card);
	return t_exit();
}
