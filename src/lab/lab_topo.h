/*
 * lab_topo — the lab's network: one namespace per host of a plan, veth pairs between them,
 * documentation-range addresses (RFC 5737), routes, nftables rules (NAT masquerade, L4 DNAT,
 * timestamp stripping) and the plan's sysctls. Also the run lock and stale-run recovery.
 *
 * Safety invariant: lab_topo_destroy() deletes only namespaces this process created (names
 * "twk-lab-<pid>-<role>", recorded in t->made[]); everything else inside (veths, nft tables,
 * addresses) lives in those namespaces and goes with them. The lock file records each
 * namespace before it is created, so a run killed with SIGKILL is cleaned by the next run.
 */
#ifndef TWKIT_LAB_LAB_TOPO_H
#define TWKIT_LAB_LAB_TOPO_H

#include <stdbool.h>
#include <stddef.h>

#include "lab/lab_scen.h"

#define LAB_NS_PREFIX "twk-lab-"
#define LAB_LOCK_PATH "/run/twkit-lab.lock"
#define LAB_NS_LEN 64

/* Addresses (RFC 5737 documentation ranges: never routed anywhere real). */
#define LAB_NET_FRONT "192.0.2"      /* client side link: clients .1..N, middlebox .254 */
#define LAB_NET_BACK "198.51.100"    /* server side link: middlebox .1..N, server .100 */
#define LAB_VIP "203.0.113.10"       /* the L4 balancer's virtual IP */
#define LAB_SERVER_DIRECT "192.0.2.100" /* server address when there is no middlebox */

struct lab_topo {
	char prefix[40];                  /* "twk-lab-<pid>" */
	int n;
	char ns[LAB_MAX_HOSTS][LAB_NS_LEN]; /* namespace of plan->hosts[i] */
	bool made[LAB_MAX_HOSTS];         /* created by us: the only ones we delete */
	int lock_fd;                      /* -1 when not held */
	bool relay;                       /* the middlebox runs an L7 relay (twkit's or nginx) */
};

/* Root, `ip` and `nft` present? 0, or -EPERM / -ENOENT with what is missing in err. */
int lab_env_check(char *err, size_t errlen);

/* Prepare t (names from the pid). No side effects. */
void lab_topo_init(struct lab_topo *t, const struct lab_plan *p, int pid);
/*
 * Take the run lock (LAB_LOCK_PATH, flock), waiting up to wait_ns for another run to release
 * it (0: not at all). -EBUSY with "pid N" in err when another run still holds it. On success, namespaces left by a dead run (recorded in the file, prefixed, their pid
 * gone) are removed first; *recovered counts them.
 */
int lab_lock_acquire(struct lab_topo *t, int64_t wait_ns, int *recovered, char *err,
		     size_t errlen);
void lab_lock_release(struct lab_topo *t);
/* Record a run's private directory (lab_nginx) in the lock file, so that the next run
 * removes it when this one dies without cleaning up. */
void lab_lock_record_dir(struct lab_topo *t, const char *dir);

/*
 * Whether this kernel builds p's sysctls, tried before anything is made: a forked child
 * unshares a network namespace of its own (gone when it exits), writes each value there and
 * reads it back; the caller's namespace is never written. Returns 0 when every one takes, or
 * -EOPNOTSUPP with *host and *idx naming the first that does not (p->hosts[*host].sysctl[*idx])
 * and why in err: not on this kernel, on it but not per namespace, value refused, or read back
 * otherwise. Without the right to unshare (not root) only its presence in the caller's
 * /proc/sys is checked, read-only. Other -errno (fork, pipe) with err set.
 */
int lab_topo_probe(const struct lab_plan *p, int *host, int *idx, char *err, size_t errlen);

/* Build the namespaces, links, addresses, routes, nft rules and sysctls of p (each read back:
 * what the report shows is what the namespace has). On error, what was made stays recorded
 * for lab_topo_destroy(). 0 or -errno with err set. */
int lab_topo_build(struct lab_topo *t, const struct lab_plan *p, char *err, size_t errlen);
/* Delete the namespaces we made (idempotent). Returns how many could not be deleted. */
int lab_topo_destroy(struct lab_topo *t);

/* Pure address helpers. buf needs 32 bytes. */
const char *lab_addr_client(unsigned i, char *buf, size_t len);      /* 192.0.2.(1+i) */
const char *lab_addr_middle_back(unsigned i, char *buf, size_t len); /* 198.51.100.(1+i) */
const char *lab_addr_server(const struct lab_plan *p);
/* Where the client connects: the server, the L4 VIP or the L7 relay. */
const char *lab_addr_target(const struct lab_plan *p);

/* Run argv (argv[0] looked up in PATH), optional stdin text; stderr's first line into err.
 * 0, or -EIO when it exits non-zero, -errno when it cannot start. */
int lab_cmd(const char *const *argv, const char *input, char *err, size_t errlen);

#endif
