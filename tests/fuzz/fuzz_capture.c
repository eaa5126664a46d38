/*
 * fuzz_capture — libFuzzer harness for everything doctor parses from outside: the capture
 * container (--replay), the sock_diag replies inside it, the /proc texts, and then the whole
 * analysis and renderers on whatever survived. Built and run by tests/fuzz/run (make fuzz).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor/analyse.h"
#include "doctor/findings.h"
#include "doctor/render.h"
#include "kernel/capture.h"
#include "kernel/procfs.h"
#include "kernel/snapshot.h"
#include "kernel/sockdiag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ignore(const struct kdiag_sock *s, void *ctx)
{
	(void)s;
	(void)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "net.ipv4.ip_local_port_range",
				       "net.ipv4.ip_local_reserved_ports", "/proc/net/netstat",
				       "/proc/net/sockstat", "/proc/slabinfo", "fs.file-nr",
				       SNAP_CONF_PREFIX "/etc/sysctl.conf" };
	struct cap_reader r;
	struct snapshot s;
	char err[256];
	bool done;

	/* 1. raw netlink (aligned copy, as the snapshot does) */
	void *al = malloc(size ? size : 1);
	memcpy(al, data, size);
	(void)kdiag_parse_buf(al, size, ignore, NULL, &done);
	free(al);

	/* 2. the /proc parsers on the bytes as text */
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	snapshot_init(&s);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		snapshot_feed_file(&s, names[i], text, strlen(text));
	snapshot_fini(&s);
	free(text);

	/* 3. the capture container, then the whole pipeline on what it holds */
	uint8_t *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	if (cap_reader_parse(&r, buf, size, err, sizeof(err)) == 0) {
		snapshot_init(&s);
		if (snapshot_from_capture(&s, &r, err, sizeof(err)) == 0) {
			struct doc_analysis a;
			static struct doc_findings fs;
			if (doc_analyse(&s, &a) == 0) {
				struct doc_render_opts o = { .top = 3 };
				FILE *f = fopen("/dev/null", "w");
				doc_findings_run(&s, &a, NULL, &fs);
				doc_render_json(f, &s, &a, &fs, &o);
				doc_render_prom(f, &s, &a, &fs, &o);
				doc_render_text(f, &s, &a, &fs, &o);
				fclose(f);
				doc_analysis_fini(&a);
			}
		}
		snapshot_fini(&s);
		cap_reader_fini(&r);
	}
	return 0;
}
