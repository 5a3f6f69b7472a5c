// SPDX-License-Identifier: MIT
/* TCP plumbing for streams: connect, listen, accept, exact reads/writes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "internal.h"
#include "net.h"

void net_fmt_sockaddr(const void *sa, char *buf, size_t len)
{
	const struct sockaddr *s = sa;
	char host[INET6_ADDRSTRLEN] = "?";

	if (s->sa_family == AF_INET) {
		const struct sockaddr_in *in = sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (s->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			snprintf(buf, len, "%s:%u", host + 7,
				 ntohs(in6->sin6_port));
		else
			snprintf(buf, len, "[%s]:%u", host,
				 ntohs(in6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

/* poll() one fd in slices, honouring @stop; 1 ready, or -errno. */
static int wait_fd(int fd, short events, int timeout_ms,
		   volatile sig_atomic_t *stop)
{
	uint64_t deadline = dmakit_deadline(timeout_ms);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int left = dmakit_remaining_ms(deadline);
		int ret;

		if (net_stopped(stop))
			return -EINTR;
		if (left == 0)
			return -ETIMEDOUT;
		if (left < 0 || left > NET_POLL_SLICE_MS)
			left = NET_POLL_SLICE_MS;
		ret = poll(&p, 1, left);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret > 0)
			return 1;
	}
}

static int connect_one(const struct addrinfo *ai, int timeout_ms,
		       volatile sig_atomic_t *stop)
{
	socklen_t sl = sizeof(int);
	int fd, ret, soerr = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		ret = -errno;
		goto fail;
	}
	ret = wait_fd(fd, POLLOUT, timeout_ms, stop);
	if (ret < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
		ret = -errno;
		goto fail;
	}
	if (soerr) {
		ret = -soerr;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

int net_connect(const char *addr, int timeout_ms,
		volatile sig_atomic_t *stop, char *peer, size_t peerlen,
		char *err, size_t errlen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
	}, *res, *ai, *last = NULL;
	char host[256], port[8];
	int ret, fd = -EHOSTUNREACH;

	ret = dmakit_net_split_addr(addr, host, sizeof(host), port,
				    sizeof(port), err, errlen);
	if (ret)
		return ret;
	if (!host[0])
		return dmakit_errf(err, errlen, -EINVAL,
				   "'%s' has no host (expected HOST:PORT)", addr);
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret)
		return dmakit_errf(err, errlen, -EHOSTUNREACH,
				   "cannot resolve '%s': %s", host,
				   gai_strerror(ret));
	for (ai = res; ai; ai = ai->ai_next) {
		last = ai;
		fd = connect_one(ai, timeout_ms, stop);
		if (fd >= 0 || fd == -EINTR)
			break;
	}
	if (fd >= 0) {
		net_fmt_sockaddr(ai->ai_addr, peer, peerlen);
	} else if (fd != -EINTR) {
		char a[72] = "";

		/* name the address only if the caller's string did not */
		net_fmt_sockaddr(last->ai_addr, a + 1, sizeof(a) - 1);
		a[0] = ' ';
		if (!strcmp(a + 1, addr))
			a[0] = '\0';
		dmakit_errf(err, errlen, fd, "connect%s: %s", a,
			    fd == -ETIMEDOUT ? "no answer (host unreachable or filtered)"
					     : dmakit_strerror(fd));
	} else {
		dmakit_errf(err, errlen, fd, "connect %s: interrupted", addr);
	}
	freeaddrinfo(res);
	return fd;
}

int dmakit_net_listen(const char *addr, char *err, size_t errlen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE,
	}, *res, *ai;
	char host[256], port[8];
	int ret, fd = -1, one = 1, zero = 0;

	ret = dmakit_net_split_addr(addr, host, sizeof(host), port,
				    sizeof(port), err, errlen);
	if (ret)
		return ret;
	if (!host[0])
		hints.ai_family = AF_INET6;	/* dual-stack: v6 and v4 */
	ret = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (ret && !host[0]) {
		hints.ai_family = AF_INET;	/* a host without IPv6 */
		ret = getaddrinfo(NULL, port, &hints, &res);
	}
	if (ret)
		return dmakit_errf(err, errlen, -EINVAL,
				   "cannot resolve '%s': %s", host,
				   gai_strerror(ret));
	ret = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6 && !host[0])
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 4) == 0)
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return dmakit_errf(err, errlen, ret, "listen on %s: %s", addr,
				   ret == -EADDRINUSE ?
				   "address already in use (another receiver on this port?)" :
				   dmakit_strerror(ret));
	return fd;
}

int dmakit_net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

int net_accept(int lfd, int timeout_ms, volatile sig_atomic_t *stop,
	       char *peer, size_t peerlen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int ret, fd;

	ret = wait_fd(lfd, POLLIN, timeout_ms, stop);
	if (ret < 0)
		return dmakit_errf(err, errlen, ret, "waiting for a sender: %s",
				   ret == -EINTR ? "interrupted" :
				   dmakit_strerror(ret));
	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0)
		return dmakit_errf(err, errlen, -errno, "accept: %s",
				   strerror(errno));
	net_fmt_sockaddr(&ss, peer, peerlen);
	return fd;
}

int net_write_all(int fd, const void *buf, size_t len, int timeout_ms,
		  volatile sig_atomic_t *stop)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int ret;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		ret = wait_fd(fd, POLLOUT, timeout_ms, stop);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int net_read_all(int fd, void *buf, size_t len, size_t *got, int timeout_ms,
		 volatile sig_atomic_t *stop)
{
	char *p = buf;
	size_t done = 0;
	int ret = 0;

	while (done < len) {
		ssize_t n = recv(fd, p + done, len - done,
				 MSG_DONTWAIT);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0) {
			ret = -ECONNRESET;
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			ret = -errno;
			break;
		}
		ret = wait_fd(fd, POLLIN, timeout_ms, stop);
		if (ret < 0)
			break;
		ret = 0;
	}
	if (got)
		*got = done;
	return ret;
}

int net_read_frame(int fd, struct dmakit_frame *f, int timeout_ms,
		   volatile sig_atomic_t *stop, bool *clean, char *err,
		   size_t errlen)
{
	unsigned char raw[DMAKIT_FRAME_MAX_LEN];
	size_t got = 0;
	int ret, len;

	if (clean)
		*clean = false;
	ret = net_read_all(fd, raw, DMAKIT_FRAME_COMMON_LEN, &got, timeout_ms,
			   stop);
	if (ret == -ECONNRESET && got == 0) {
		if (clean)
			*clean = true;
		return dmakit_errf(err, errlen, ret,
				   "peer closed the connection");
	}
	if (ret == -ECONNRESET)
		return dmakit_errf(err, errlen, -EPROTO,
				   "truncated frame: connection closed after %zu header bytes",
				   got);
	if (ret)
		return dmakit_errf(err, errlen, ret, "reading a frame: %s",
				   ret == -EINTR ? "interrupted" :
				   dmakit_strerror(ret));
	len = dmakit_frame_peek(raw, DMAKIT_FRAME_COMMON_LEN, err, errlen);
	if (len < 0)
		return len;
	ret = net_read_all(fd, raw + DMAKIT_FRAME_COMMON_LEN,
			   (size_t)len - DMAKIT_FRAME_COMMON_LEN, &got,
			   timeout_ms, stop);
	if (ret == -ECONNRESET)
		return dmakit_errf(err, errlen, -EPROTO,
				   "truncated %s frame: connection closed after %zu of %d header bytes",
				   dmakit_frame_type_name(raw[5]),
				   got + DMAKIT_FRAME_COMMON_LEN, len);
	if (ret)
		return dmakit_errf(err, errlen, ret, "reading a frame: %s",
				   ret == -EINTR ? "interrupted" :
				   dmakit_strerror(ret));
	return dmakit_frame_decode(raw, (size_t)len, f, err, errlen);
}

int net_write_frame(int fd, const struct dmakit_frame *f, int timeout_ms,
		    volatile sig_atomic_t *stop)
{
	unsigned char raw[DMAKIT_FRAME_MAX_LEN];
	int len = dmakit_frame_encode(f, raw, sizeof(raw));

	if (len < 0)
		return len;
	return net_write_all(fd, raw, (size_t)len, timeout_ms, stop);
}
