/*
 * lab_sample — per-namespace sampling and sysctls for twkit lab (see lab_sample.h).
 * Invariant: every path that entered a namespace leaves it before returning.
 */
#include "kernel/lab_sample.h"

#include <errno.h>
#include <stdlib.h>

#include "kernel/netns.h"
#include "kernel/procfs.h"
#include "kernel/sockdiag.h"

/* /proc/thread-self/net follows the thread's namespace after setns (netns.h). */
#define KLAB_NETSTAT "/proc/thread-self/net/netstat"
#define KLAB_SNMP "/proc/thread-self/net/snmp"
#define KLAB_PROC_MAX (1u << 20)

/* Add the "Prefix.Name" pairs of one proc file to c. */
static int read_pairs(const char *path, struct kcounters *c)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = kproc_read(path, KLAB_PROC_MAX, &buf, &len);

	if (rc < 0)
		return rc;
	rc = kproc_parse_pairs(buf, c);
	free(buf);
	return rc < 0 ? rc : 0;
}

/* A counter or 0 when this kernel does not have it. */
static uint64_t counter(const struct kcounters *c, const char *name)
{
	uint64_t v = 0;

	if (kcounters_get(c, name, &v) < 0)
		return 0;
	return v;
}

int klab_sample_ns(const char *ns, struct klab_sample *out)
{
	struct kdiag_counts cnt = { 0 };
	struct kcounters c;
	int saved, rc;

	kcounters_init(&c);
	rc = kns_enter(ns, &saved);
	if (rc < 0)
		goto out_fini;
	rc = kdiag_count(KDIAG_ALL_STATES, NULL, &cnt);
	if (rc < 0)
		goto out;
	rc = read_pairs(KLAB_NETSTAT, &c);
	if (rc < 0)
		goto out;
	rc = read_pairs(KLAB_SNMP, &c);
	if (rc < 0)
		goto out;
	out->time_wait = cnt.time_wait;
	out->tw_fin_wait2 = cnt.tw_fin_wait2;
	out->established = cnt.by_state[KDIAG_ESTABLISHED];
	out->tw = counter(&c, "TcpExt.TW");
	out->tw_recycled = counter(&c, "TcpExt.TWRecycled");
	out->tw_overflow = counter(&c, "TcpExt.TCPTimeWaitOverflow");
	out->active_opens = counter(&c, "Tcp.ActiveOpens");
	out->passive_opens = counter(&c, "Tcp.PassiveOpens");
	out->estab_resets = counter(&c, "Tcp.EstabResets");
out:
	if (kns_leave(saved) < 0 && rc == 0)
		rc = -EIO;
out_fini:
	kcounters_fini(&c);
	return rc;
}

int klab_listeners(const char *ns, uint16_t lo, uint16_t hi, uint32_t *n)
{
	struct kdiag_filter flt = { .lport_lo = lo, .lport_hi = hi };
	struct kdiag_counts cnt = { 0 };
	int saved, rc;

	rc = kns_enter(ns, &saved);
	if (rc < 0)
		return rc;
	rc = kdiag_count(1u << KDIAG_LISTEN, &flt, &cnt);
	if (rc == 0)
		*n = cnt.by_state[KDIAG_LISTEN];
	if (kns_leave(saved) < 0 && rc == 0)
		rc = -EIO;
	return rc;
}

int klab_sysctl_set(const char *ns, const char *name, const char *value)
{
	int saved, rc;

	rc = kns_enter(ns, &saved);
	if (rc < 0)
		return rc;
	rc = kproc_sysctl_write(name, value);
	if (kns_leave(saved) < 0 && rc == 0)
		rc = -EIO;
	return rc;
}

int klab_sysctl_get(const char *ns, const char *name, char *buf, size_t len)
{
	int saved, rc;

	rc = kns_enter(ns, &saved);
	if (rc < 0)
		return rc;
	rc = kproc_sysctl_read(name, buf, len);
	if (kns_leave(saved) < 0 && rc == 0)
		rc = -EIO;
	return rc;
}
