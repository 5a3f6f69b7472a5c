// SPDX-License-Identifier: MIT
/*
 * An application that uses libbpf itself, with its own print callback,
 * and libdmakit's BPF tracing backend: after a session is opened and
 * closed, its callback must still be the one libbpf calls.
 *
 *   bpf_print      prints "backend NAME", then "callback kept" or fails
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <dmakit/trace.h>

static unsigned int app_messages;

static int app_print(enum libbpf_print_level level, const char *fmt,
		     va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	app_messages++;
	return 0;
}

int main(void)
{
	const char *start[] = { "tp:syscalls:sys_enter_getppid" };
	const char *end[] = { "tp:syscalls:sys_exit_getppid" };
	struct dmakit_trace_opts opts = {
		.start_specs = start, .nstart_specs = 1,
		.end_specs = end, .nend_specs = 1,
		.backend = DMAKIT_TRACE_BACKEND_BPF,
	};
	struct dmakit_trace_session *s;
	libbpf_print_fn_t now;
	struct bpf_object *obj;
	unsigned int before;
	char err[512];
	int ret, i;

	libbpf_set_print(app_print);
	for (i = 0; i < 2; i++) {
		ret = dmakit_trace_session_alloc(&s, &opts, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "bpf_print: %s\n", err);
			return 1;
		}
		printf("backend %s\n", dmakit_trace_session_backend(s, NULL));
		if (dmakit_trace_session_start(s) ||
		    dmakit_trace_session_poll(s, 10) < 0 ||
		    dmakit_trace_session_stop(s)) {
			fprintf(stderr, "bpf_print: the session failed\n");
			return 1;
		}
		getppid();
		dmakit_trace_session_free(s);
	}
	now = libbpf_set_print(app_print);
	if (now != app_print) {
		fprintf(stderr, "bpf_print: the application's callback was replaced\n");
		return 1;
	}
	/* and libbpf calls it: opening no file makes libbpf complain */
	before = app_messages;
	obj = bpf_object__open_file("/nonexistent/dmakit-bpf-print.o", NULL);
	if (obj)
		bpf_object__close(obj);
	if (app_messages == before) {
		fprintf(stderr, "bpf_print: libbpf did not call the application's callback\n");
		return 1;
	}
	printf("callback kept\n");
	return 0;
}
