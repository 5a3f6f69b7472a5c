/* SPDX-License-Identifier: MIT */
/* Rings shared between processes by name: see lib/source/sim_shared.c. */
#ifndef DMAKIT_SIM_SHARED_H
#define DMAKIT_SIM_SHARED_H

#include <stdbool.h>
#include <stddef.h>

#define SIM_SHARED_NAME_MAX 64
/* A qualified name: "sim." or "app." and the user's name. */
#define SIM_SHARED_QNAME_MAX (SIM_SHARED_NAME_MAX + 4)

/* [A-Za-z0-9_.-]{1,64}, not starting with '.' */
bool sim_shared_name_ok(const char *name);

/*
 * The ring's path (@slot < 0) or the wake FIFO of consumer slot @slot;
 * @name is qualified ("sim.NAME"), as for every function below.
 */
void sim_shared_path(char *buf, size_t len, const char *name, int slot);

/*
 * Open NAME's ring if a live owner publishes it: 1 with *@fdp set, 0 if
 * there is none, 2 if there was only a stale one (its owner ended without
 * closing it), now removed; or -errno.
 */
int sim_shared_open_existing(const char *name, int *fdp);

/* An unnamed file in /dev/shm for a new ring, or -errno. */
int sim_shared_create_fd(void);

/*
 * Lock @fd as its owner and link it under NAME.  -EEXIST if another
 * process published NAME first.
 */
int sim_shared_publish(int fd, const char *name);

/* Does the owner of the ring open as @fd still hold it? */
bool sim_shared_owner_alive(int fd);

/* Remove NAME's ring and wake FIFOs. */
void sim_shared_unlink(const char *name);

/*
 * The wake FIFO of @slot opened read-write, non-blocking; @create makes it
 * first (the consumer's side).  Returns an fd or -errno.
 */
int sim_shared_wake_fd(const char *name, int slot, bool create);

#endif /* DMAKIT_SIM_SHARED_H */
