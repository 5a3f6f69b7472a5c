// SPDX-License-Identifier: MIT
/* Backend for /dev/dmakitN (dmakit.ko).  Placeholder until the driver lands. */
#include <errno.h>
#include "internal.h"

static int kdev_open(struct dmakit_dev *dev, const char *args, char *err,
		     size_t errlen)
{
	(void)dev;
	return dmakit_errf(err, errlen, -ENODEV, "%s: kernel devices are not supported yet", args);
}

const struct dmakit_backend dmakit_kdev_backend = {
	.name = "kernel",
	.open = kdev_open,
};
