// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/class/dmakit/dmakitN: what the card is, how its ring is configured,
 * and its counters (counters/: one value per file, "interrupts" one count
 * per vector).
 *
 * The ring's geometry and policy can change only while nobody has the card
 * open or its ring mapped (-EBUSY otherwise); the rate applies at the next
 * start of the stream.  The ring's direction is the application's to set
 * (DMAKIT_IOC_RING_SETUP); "direction" shows it.
 */
#include <linux/kernel.h>
#include <linux/sysfs.h>

#include "dmakit.h"

static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", dmakit_card_of(dev)->backend);
}
static DEVICE_ATTR_RO(backend);

static ssize_t card_mem_size_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", dmakit_card_of(dev)->card_mem_size);
}
static DEVICE_ATTR_RO(card_mem_size);

/* which DMA channel of the device ("device" links it) this node is */
static ssize_t channel_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", dmakit_card_of(dev)->channel);
}
static DEVICE_ATTR_RO(channel);

static ssize_t dma_mask_bits_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", dmakit_card_of(dev)->dma_bits);
}
static DEVICE_ATTR_RO(dma_mask_bits);

static ssize_t irq_type_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	static const char *const names[] = {
		[DMAKIT_IRQ_NONE] = "none",
		[DMAKIT_IRQ_INTX] = "intx",
		[DMAKIT_IRQ_MSI] = "msi",
		[DMAKIT_IRQ_MSIX] = "msix",
	};
	u32 type = dmakit_card_of(dev)->irq_type;

	return sysfs_emit(buf, "%s\n", type < ARRAY_SIZE(names) ? names[type] :
					    "?");
}
static DEVICE_ATTR_RO(irq_type);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct dmakit_card *card = dmakit_card_of(dev);
	ssize_t ret;

	mutex_lock(&card->lock);
	ret = sysfs_emit(buf, "%s\n", card->ring ?
			 dmakit_ring_state_name(card) : "none");
	mutex_unlock(&card->lock);
	return ret;
}
static DEVICE_ATTR_RO(state);

/* Apply new ring settings if the card is idle and unused. */
static int ring_store(struct dmakit_card *card, u32 nbufs, u32 bufsize,
		      u32 policy)
{
	int ret;

	mutex_lock(&card->lock);
	if (card->dead)
		ret = -ENODEV;
	else if (!card->ring)
		ret = -EOPNOTSUPP;
	else if (card->nopen || atomic_read(&card->nmaps))
		ret = -EBUSY;
	else
		ret = dmakit_ring_reconfigure(card, nbufs, bufsize, policy,
					      card->ring_dir);
	mutex_unlock(&card->lock);
	return ret;
}

static ssize_t ring_nbufs_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", dmakit_card_of(dev)->ring_nbufs);
}

static ssize_t ring_nbufs_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct dmakit_card *card = dmakit_card_of(dev);
	u32 v;
	int ret;

	ret = kstrtou32(buf, 0, &v);
	if (!ret)
		ret = ring_store(card, v, card->ring_bufsize, card->policy);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(ring_nbufs);

static ssize_t ring_bufsize_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", dmakit_card_of(dev)->ring_bufsize);
}

static ssize_t ring_bufsize_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	struct dmakit_card *card = dmakit_card_of(dev);
	u32 v;
	int ret;

	ret = kstrtou32(buf, 0, &v);
	if (!ret)
		ret = ring_store(card, card->ring_nbufs, v, card->policy);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(ring_bufsize);

static ssize_t policy_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  dmakit_card_of(dev)->policy == DMAKIT_POLICY_BLOCK ?
			  "block" : "drop");
}

static ssize_t policy_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t count)
{
	struct dmakit_card *card = dmakit_card_of(dev);
	u32 policy;
	int ret;

	if (sysfs_streq(buf, "drop"))
		policy = DMAKIT_POLICY_DROP;
	else if (sysfs_streq(buf, "block"))
		policy = DMAKIT_POLICY_BLOCK;
	else
		return -EINVAL;
	ret = ring_store(card, card->ring_nbufs, card->ring_bufsize, policy);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(policy);

static ssize_t direction_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(dmakit_card_of(dev)->ring_dir) ==
			  DMAKIT_DIR_H2C ? "h2c" : "c2h");
}
static DEVICE_ATTR_RO(direction);

static ssize_t rate_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(dmakit_card_of(dev)->rate));
}

static ssize_t rate_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct dmakit_card *card = dmakit_card_of(dev);
	u64 v;
	int ret;

	ret = kstrtou64(buf, 0, &v);
	if (ret)
		return ret;
	mutex_lock(&card->lock);
	card->rate = v;
	mutex_unlock(&card->lock);
	return count;
}
static DEVICE_ATTR_RW(rate);

static struct attribute *dmakit_card_attrs[] = {
	&dev_attr_backend.attr,
	&dev_attr_card_mem_size.attr,
	&dev_attr_channel.attr,
	&dev_attr_dma_mask_bits.attr,
	&dev_attr_irq_type.attr,
	&dev_attr_state.attr,
	&dev_attr_ring_nbufs.attr,
	&dev_attr_ring_bufsize.attr,
	&dev_attr_policy.attr,
	&dev_attr_direction.attr,
	&dev_attr_rate.attr,
	NULL,
};

const struct attribute_group dmakit_card_group = {
	.attrs = dmakit_card_attrs,
};

#define DMAKIT_COUNTER_ATTR(name)					\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n",				\
		atomic64_read(&dmakit_card_of(dev)->cnt.name));		\
}									\
static DEVICE_ATTR_RO(name)

DMAKIT_COUNTER_ATTR(submitted);
DMAKIT_COUNTER_ATTR(completed);
DMAKIT_COUNTER_ATTR(bytes);
DMAKIT_COUNTER_ATTR(errors);
DMAKIT_COUNTER_ATTR(timeouts);
DMAKIT_COUNTER_ATTR(drops);
DMAKIT_COUNTER_ATTR(underruns);
DMAKIT_COUNTER_ATTR(xfer_starts);

static ssize_t interrupts_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct dmakit_card *card = dmakit_card_of(dev);
	unsigned int i, n = min_t(u32, card->nvec, DMAKIT_MAX_VECTORS);
	ssize_t len = 0;

	for (i = 0; i < n; i++)
		len += sysfs_emit_at(buf, len, "%s%lld", i ? " " : "",
				     atomic64_read(&card->cnt.irqs[i]));
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}
static DEVICE_ATTR_RO(interrupts);

static struct attribute *dmakit_counter_attrs[] = {
	&dev_attr_submitted.attr,
	&dev_attr_completed.attr,
	&dev_attr_bytes.attr,
	&dev_attr_errors.attr,
	&dev_attr_timeouts.attr,
	&dev_attr_drops.attr,
	&dev_attr_underruns.attr,
	&dev_attr_xfer_starts.attr,
	&dev_attr_interrupts.attr,
	NULL,
};

const struct attribute_group dmakit_counter_group = {
	.name = "counters",
	.attrs = dmakit_counter_attrs,
};

