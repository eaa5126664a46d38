/*
 * bench_demo — what `twkit bench` with no arguments shows: the problem twkit exists for, then
 * its fixes. As root it moves into a private network namespace (loopback up, tcp_tw_reuse=0,
 * a narrow ip_local_port_range) where a loopback churn runs out of ports within a second as a
 * remote peer's would, runs the baseline (EADDRNOTAVAIL), then the built-in matrix of
 * mitigations. Without the privilege it says why nothing will fail on this host's stack (from
 * the model, with the running sysctls) and how to see it, then runs there as `--host` does.
 */
#include "bench/bench_demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/units.h"
#include "kernel/netns.h"
#include "kernel/procfs.h"
#include "model/profile.h"
#include "model/reuse.h"
#include "verbs.h"

#define DEMO_PORT_LO 40000
#define DEMO_PORT_HI 40999

static long sysctl_or(const char *name, long def)
{
	char b[64];
	return kproc_sysctl_read(name, b, sizeof(b)) == 0 ? strtol(b, NULL, 10) : def;
}

/* Why a loopback churn on this host's stack fails or not, from model/reuse. */
static void explain_host(FILE *f, int why_unshare)
{
	struct utsname u;
	const struct tw_profile *p;
	struct tw_reuse_scope sc = { 0 };
	enum TW_REUSE_WHY why;
	uint16_t lo = 0, hi = 0;
	char n[32];

	uname(&u);
	p = tw_profile_by_name("host", u.release);
	if (!p)
		p = tw_profile_at(tw_profile_count() - 1);
	sc.reuse = (int)sysctl_or("net.ipv4.tcp_tw_reuse", p->reuse_default);
	sc.timestamps = (int)sysctl_or("net.ipv4.tcp_timestamps", 1);
	sc.peer_timestamps = sc.timestamps ? 1 : 0; /* our own server, on this same stack */
	sc.loopback = true;
	sc.outgoing = true;
	why = tw_reuse_explain(p, &sc);
	if (kproc_port_range(&lo, &hi) < 0)
		lo = hi = 0;
	fprintf(f, "twkit bench: on this host's own stack (no private network namespace: %s).\n",
		strerror(-why_unshare));
	if (why == TW_REUSE_HELPS) {
		uint32_t age = tw_reuse_min_age_ms(
			p, (uint32_t)sysctl_or("net.ipv4.tcp_tw_reuse_delay", TW_REUSE_DELAY_DEFAULT_MS));
		fprintf(f,
			"  Expect no failures: net.ipv4.tcp_tw_reuse is %d here and this traffic is "
			"loopback, so %s once a TIME-WAIT is %u ms old: a port is free again long before the "
			"%u s TIME-WAIT ends.\n",
			sc.reuse, tw_reuse_why_str(why), age, TW_TIMEWAIT_LEN_MS / 1000u);
	} else {
		fprintf(f, "  Here %s: once the %s local ports are all in TIME-WAIT, connect() fails "
			   "with EADDRNOTAVAIL.\n",
			tw_reuse_why_str(why), units_fmt_count(n, sizeof(n), (uint64_t)(hi - lo + 1)));
	}
	fprintf(f, "  To see the failures and their fixes: as root, `twkit bench` runs this demo in "
		   "a private network namespace with tcp_tw_reuse=0 and %s ports; `twkit sim "
		   "stress-client` models them on any kernel.\n\n",
		units_fmt_count(n, sizeof(n), DEMO_PORT_HI - DEMO_PORT_LO + 1));
	fflush(f);
}

int bench_demo(int (*run)(int argc, char **argv))
{
	char range[32], n[32];
	static char w_bench[] = "bench", w_d[] = "-d", w_2s[] = "2s", w_1s[] = "1s", w_q[] = "-q",
		    w_matrix[] = "--matrix", w_builtin[] = "builtin", w_host[] = "--host";
	char *base[] = { w_bench, w_d, w_2s, w_q, NULL };
	char *matrix[] = { w_bench, w_matrix, w_builtin, w_d, w_1s, w_q, NULL };
	char *host[] = { w_bench, w_host, NULL };
	int rc = kns_private();

	if (rc < 0) {
		explain_host(stdout, rc);
		return run(2, host);
	}
	snprintf(range, sizeof(range), "%d %d", DEMO_PORT_LO, DEMO_PORT_HI);
	if ((rc = kproc_sysctl_write("net.ipv4.tcp_tw_reuse", "0")) < 0 ||
	    (rc = kproc_sysctl_write("net.ipv4.ip_local_port_range", range)) < 0) {
		fprintf(stderr, "twkit bench: setting up the demo's namespace: %s\n", strerror(-rc));
		return TWKIT_EXIT_RUNTIME;
	}
	printf("twkit bench: demo in a private network namespace (tcp_tw_reuse=0, %s local ports "
	       "%d-%d); `twkit bench --host` runs on this host's own stack.\n\n",
	       units_fmt_count(n, sizeof(n), DEMO_PORT_HI - DEMO_PORT_LO + 1), DEMO_PORT_LO,
	       DEMO_PORT_HI);
	printf("1. The failures: own server on loopback, the client closes first, 2 s.\n\n");
	fflush(stdout);
	rc = run(4, base);
	if (rc != TWKIT_EXIT_OK)
		return rc;
	printf("\n2. The fixes, each against the same baseline (1 s each):\n\n");
	fflush(stdout);
	rc = run(6, matrix);
	printf("\nThe same on this host's own stack: twkit bench --host; your own server: twkit "
	       "bench run --target ADDR:PORT; the model: twkit sim stress-client --explain.\n");
	return rc;
}
