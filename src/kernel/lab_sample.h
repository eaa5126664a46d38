/*
 * lab_sample — what twkit lab reads from, and writes to, the kernel of one of its network
 * namespaces: sysctls before a run, and one sample per second of TIME-WAIT, established
 * sockets and the TIME-WAIT counters (§8) during it. Built on netns.h, sockdiag.h, procfs.h.
 * Every function enters the namespace for the calling thread and always leaves it again.
 */
#ifndef TWKIT_KERNEL_LAB_SAMPLE_H
#define TWKIT_KERNEL_LAB_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* One sample of one namespace. Counters are cumulative since the namespace was created
 * (every namespace starts its SNMP MIB at zero), so no baseline is needed. */
struct klab_sample {
	uint32_t time_wait;     /* TIME-WAIT minisockets in the TIME_WAIT substate (§9) */
	uint32_t tw_fin_wait2;  /* minisockets in the FIN_WAIT2 substate */
	uint32_t established;
	uint64_t tw;            /* TcpExt.TW: TIME-WAITs that ran their full timer */
	uint64_t tw_recycled;   /* TcpExt.TWRecycled: taken over by tcp_tw_reuse (§2.3) */
	uint64_t tw_overflow;   /* TcpExt.TCPTimeWaitOverflow (§1.4) */
	uint64_t active_opens;  /* Tcp.ActiveOpens */
	uint64_t passive_opens; /* Tcp.PassiveOpens */
	uint64_t estab_resets;  /* Tcp.EstabResets */
};

/* Sample namespace `ns` (/run/netns/NAME). 0 or -errno (-ENOENT: no such namespace). */
int klab_sample_ns(const char *ns, struct klab_sample *out);
/* Count listening sockets in `ns` with a local port in [lo, hi]. 0 or -errno. */
int klab_listeners(const char *ns, uint16_t lo, uint16_t hi, uint32_t *n);
/* Write sysctl `name` = `value` inside `ns`. 0 or -errno. */
int klab_sysctl_set(const char *ns, const char *name, const char *value);
/* Read sysctl `name` inside `ns` into buf. 0 or -errno. */
int klab_sysctl_get(const char *ns, const char *name, char *buf, size_t len);

#endif
