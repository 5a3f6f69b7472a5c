// SPDX-License-Identifier: MIT
/*
 * The TX API (dmakit/tx.h) without a card: arguments, and devices that
 * are not dmakit cards, each refused with the right error and a message.
 * Streaming into a card is the VM suite's (tests/vm/guest/cases/35-h2c).
 */
#include <errno.h>
#include <string.h>
#include <dmakit/tx.h>
#include "t.h"

static void bad_arguments(void)
{
	struct dmakit_tx *tx = NULL;
	struct dmakit_tx_stats st;
	struct dmakit_tx_buf b;
	char err[DMAKIT_ERRMSG_MAX] = "";

	T_EQ(dmakit_tx_open(NULL, "/dev/dmakit0", err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_tx_open(&tx, "", err, sizeof(err)), -EINVAL);
	T_ASSERT(tx == NULL);
	T_EQ(dmakit_tx_open(&tx, NULL, NULL, 0), -EINVAL);
	T_EQ(dmakit_tx_get(NULL, &b, 0), -EINVAL);
	T_EQ(dmakit_tx_publish(NULL, &b), -EINVAL);
	T_EQ(dmakit_tx_drain(NULL, 0), -EINVAL);
	T_EQ(dmakit_tx_stats(NULL, &st), -EINVAL);
	T_EQ(dmakit_tx_start(NULL), -EINVAL);
	T_EQ(dmakit_tx_stop(NULL), -EINVAL);
	T_EQ(dmakit_tx_fd(NULL), -EINVAL);
	dmakit_tx_close(NULL);
}

static void not_a_card(void)
{
	struct dmakit_tx *tx = NULL;
	char err[DMAKIT_ERRMSG_MAX] = "";

	T_EQ(dmakit_tx_open(&tx, "/dev/null", err, sizeof(err)), -ENODEV);
	T_ASSERT(tx == NULL);
	T_ASSERT(strstr(err, "not a dmakit device") != NULL);

	err[0] = '\0';
	T_EQ(dmakit_tx_open(&tx, "/dev/dmakit-no-such-card", err, sizeof(err)),
	     -ENOENT);
	T_ASSERT(tx == NULL);
	T_ASSERT(strstr(err, "/dev/dmakit-no-such-card") != NULL);
}

int main(void)
{
	T_RUN(bad_arguments);
	T_RUN(not_a_card);
	return t_exit();
}
