// SPDX-License-Identifier: MIT
/* Opening a device from its string, and the calls every backend shares. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static const struct dmakit_backend *pick_backend(const char *spec,
						 const char **args)
{
	if (!strcmp(spec, "sim")) {
		*args = "";
		return &dmakit_sim_backend;
	}
	if (!strncmp(spec, "sim:", 4)) {
		*args = spec + 4;
		return &dmakit_sim_backend;
	}
	if (!strncmp(spec, "app:", 4)) {
		*args = spec + 4;
		return &dmakit_app_backend;
	}
	if (!strncmp(spec, "chardev:", 8)) {
		*args = spec + 8;
		return &dmakit_chardev_backend;
	}
	if (spec[0] == '/') {
		*args = spec;
		return &dmakit_kdev_backend;
	}
	return NULL;
}

int dmakit_open(struct dmakit_dev **devp, const char *spec, char *errmsg,
		size_t errlen)
{
	return dmakit_open_stoppable(devp, spec, NULL, errmsg, errlen);
}

int dmakit_open_stoppable(struct dmakit_dev **devp, const char *spec,
			  volatile sig_atomic_t *stop, char *errmsg,
			  size_t errlen)
{
	const struct dmakit_backend *ops;
	struct dmakit_dev *dev;
	const char *args;
	int ret;

	if (errmsg && errlen)
		errmsg[0] = '\0';
	if (!devp || !spec || !*spec)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "empty device string");
	ops = pick_backend(spec, &args);
	if (!ops)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "unknown device '%s' (expected 'sim[:options]', 'chardev:PATH[,options]', 'app:NAME' or a path like /dev/dmakit0)",
				   spec);
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
	dev->ops = ops;
	pthread_mutex_init(&dev->lock, NULL);
	snprintf(dev->geo.name, sizeof(dev->geo.name), "%s", spec);
	dev->open_stop = stop;
	ret = ops->open(dev, args, errmsg, errlen);
	dev->open_stop = NULL;
	if (ret) {
		pthread_mutex_destroy(&dev->lock);
		free(dev);
		return ret;
	}
	*devp = dev;
	return 0;
}

void dmakit_close(struct dmakit_dev *dev)
{
	if (!dev)
		return;
	dev->ops->stop(dev);
	while (dev->consumers)
		dmakit_consumer_detach(dev->consumers);
	dev->ops->close(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

int dmakit_start(struct dmakit_dev *dev)
{
	return dev ? dev->ops->start(dev) : -EINVAL;
}

int dmakit_stop(struct dmakit_dev *dev)
{
	return dev ? dev->ops->stop(dev) : -EINVAL;
}

int dmakit_get_geometry(struct dmakit_dev *dev, struct dmakit_geometry *geo)
{
	if (!dev || !geo)
		return -EINVAL;
	*geo = dev->geo;
	return 0;
}
