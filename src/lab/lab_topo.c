/*
 * lab_topo — namespaces, veths, addresses, nftables and sysctls of a lab run, and the lock
 * (see lab_topo.h). Uses `ip` and `nft` as child processes: they are the tools an operator
 * would use to inspect what --keep leaves, and their syntax is the documentation.
 */
#include "lab/lab_topo.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "kernel/lab_sample.h"
#include "kernel/procfs.h"
#include "lab/lab_nginx.h"

static const char *const role_name[] = { "client", "mid", "server" };

int lab_cmd(const char *const *argv, const char *input, char *err, size_t errlen)
{
	int in[2] = { -1, -1 }, errp[2] = { -1, -1 }, status, rc = 0;
	char buf[512];
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(errp[1], 2);
		dup2(errp[1], 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	in[0] = -1;
	close(errp[1]);
	errp[1] = -1;
	if (input) {
		size_t len = strlen(input), off = 0;

		while (off < len) {
			n = write(in[1], input + off, len - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	close(in[1]);
	in[1] = -1;
	while ((n = read(errp[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		buf[strcspn(buf, "\n")] = '\0';
		if (err)
			snprintf(err, errlen, "%s: %s", argv[0],
				 WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "cannot run"
										 : buf);
		rc = -EIO;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return rc;
}

/* Whether `prog` is an executable in PATH. */
static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char dir[512], full[600];

	if (!path)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n > 0 && n < sizeof(dir)) {
			memcpy(dir, path, n);
			dir[n] = '\0';
			snprintf(full, sizeof(full), "%s/%s", dir, prog);
			if (access(full, X_OK) == 0)
				return true;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

int lab_env_check(char *err, size_t errlen)
{
	bool ip = in_path("ip"), nft = in_path("nft");

	if (geteuid() != 0) {
		snprintf(err, errlen, "needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to create "
			 "network namespaces; run it as root, or use `twkit sim` instead");
		return -EPERM;
	}
	if (!ip || !nft) {
		snprintf(err, errlen, "missing %s%s%s in PATH (Debian: apt-get install %s%s%s)",
			 ip ? "" : "`ip`", !ip && !nft ? " and " : "", nft ? "" : "`nft`",
			 ip ? "" : "iproute2", !ip && !nft ? " " : "", nft ? "" : "nftables");
		return -ENOENT;
	}
	return 0;
}

void lab_topo_init(struct lab_topo *t, const struct lab_plan *p, int pid)
{
	memset(t, 0, sizeof(*t));
	t->lock_fd = -1;
	snprintf(t->prefix, sizeof(t->prefix), LAB_NS_PREFIX "%d", pid);
	t->n = p->nhosts;
	for (int i = 0; i < p->nhosts; i++)
		snprintf(t->ns[i], LAB_NS_LEN, LAB_NS_PREFIX "%d-%s", pid,
			 role_name[p->hosts[i].role]);
	t->relay = p->middle >= 0 && p->middle_kind == SIM_NODE_L7LB;
}

/* Whether /run/netns/NAME exists. */
static bool ns_exists(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return access(path, F_OK) == 0;
}

/* Delete one namespace by name. */
static int ns_delete(const char *name)
{
	const char *argv[] = { "ip", "netns", "delete", name, NULL };

	return lab_cmd(argv, NULL, NULL, 0);
}

/*
 * The previous holder died without cleaning up: remove the namespaces (and nginx directories)
 * its lock file lists, but only names of our form whose pid is gone (never anything we did not
 * create). Returns the number of namespaces removed.
 */
static int recover_stale(int fd)
{
	char buf[2048], *line, *save = NULL;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	int removed = 0;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *name;
		long pid;
		char *end;

		if (strncmp(line, "dir ", 4) == 0) {
			const char *base = strrchr(line + 4, '/');

			if (!base || strncmp(base + 1, LAB_NS_PREFIX, strlen(LAB_NS_PREFIX)) != 0)
				continue;
			pid = strtol(base + 1 + strlen(LAB_NS_PREFIX), &end, 10);
			if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
				lab_nginx_remove(line + 4); /* checks the name's form itself */
			continue;
		}
		if (strncmp(line, "ns ", 3) != 0)
			continue;
		name = line + 3;
		if (strncmp(name, LAB_NS_PREFIX, strlen(LAB_NS_PREFIX)) != 0)
			continue;
		pid = strtol(name + strlen(LAB_NS_PREFIX), &end, 10);
		if (pid <= 0 || *end != '-' || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if (ns_exists(name) && ns_delete(name) == 0)
			removed++;
	}
	return removed;
}

int lab_lock_acquire(struct lab_topo *t, int64_t wait_ns, int *recovered, char *err,
		     size_t errlen)
{
	char line[64];
	int fd, rc;
	ssize_t n;
	int64_t deadline = tw_mono_ns() + wait_ns;

	*recovered = 0;
	fd = open(LAB_LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", LAB_LOCK_PATH, strerror(-rc));
		return rc;
	}
	/* poll rather than block: the wait stays bounded, and Ctrl-C ends it at once */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK &&
	       tw_mono_ns() < deadline) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		n = pread(fd, line, sizeof(line) - 1, 0);
		line[n > 0 ? n : 0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		snprintf(err, errlen, "another twkit lab run is active (%s, lock %s); let it finish, "
			 "or wait for it with --wait 5m", line[0] ? line : "pid unknown", LAB_LOCK_PATH);
		close(fd);
		return rc;
	}
	*recovered = recover_stale(fd);
	if (ftruncate(fd, 0) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	n = snprintf(line, sizeof(line), "pid %d\n", (int)getpid());
	if (pwrite(fd, line, (size_t)n, 0) != n) {
		close(fd);
		return -EIO;
	}
	t->lock_fd = fd;
	return 0;
}

void lab_lock_release(struct lab_topo *t)
{
	if (t->lock_fd < 0)
		return;
	if (ftruncate(t->lock_fd, 0) < 0) {
		/* a stale record only makes the next run check pids: harmless */
	}
	flock(t->lock_fd, LOCK_UN);
	close(t->lock_fd);
	t->lock_fd = -1;
}

/* Append "ns NAME" to the lock file before creating it, for stale-run recovery. */
static void lock_record(struct lab_topo *t, const char *name)
{
	char line[LAB_NS_LEN + 8];
	int n = snprintf(line, sizeof(line), "ns %s\n", name);
	off_t end;

	if (t->lock_fd < 0)
		return;
	end = lseek(t->lock_fd, 0, SEEK_END);
	if (end >= 0 && pwrite(t->lock_fd, line, (size_t)n, end) != n) {
		/* recovery loses this name; the run itself still deletes it */
	}
}

void lab_lock_record_dir(struct lab_topo *t, const char *dir)
{
	char line[LAB_NGINX_DIR_LEN + 8];
	int n = snprintf(line, sizeof(line), "dir %s\n", dir);
	off_t end;

	if (t->lock_fd < 0 || n < 0 || (size_t)n >= sizeof(line))
		return;
	end = lseek(t->lock_fd, 0, SEEK_END);
	if (end >= 0 && pwrite(t->lock_fd, line, (size_t)n, end) != n) {
		/* recovery loses this directory; the run itself still removes it */
	}
}

const char *lab_addr_client(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, LAB_NET_FRONT ".%u", (1 + i) & 0xffu);
	return buf;
}

const char *lab_addr_middle_back(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, LAB_NET_BACK ".%u", (1 + i) & 0xffu);
	return buf;
}

const char *lab_addr_server(const struct lab_plan *p)
{
	return p->middle < 0 ? LAB_SERVER_DIRECT : LAB_NET_BACK ".100";
}

const char *lab_addr_target(const struct lab_plan *p)
{
	if (p->middle < 0 || p->middle_kind == SIM_NODE_NAT)
		return lab_addr_server(p);
	return p->middle_kind == SIM_NODE_L4LB ? LAB_VIP : LAB_NET_FRONT ".254";
}

/* `ip -n NS ARGS... NULL` with up to 12 arguments. */
static int ipn(const char *ns, char *err, size_t errlen, ...)
{
	const char *argv[16] = { "ip", "-n", ns };
	va_list ap;
	int i = 3;

	va_start(ap, errlen);
	while (i < 15 && (argv[i] = va_arg(ap, const char *)) != NULL)
		i++;
	va_end(ap);
	argv[i] = NULL;
	return lab_cmd(argv, NULL, err, errlen);
}

#define IPN(ns, ...) ipn(ns, err, errlen, __VA_ARGS__, (const char *)NULL)

/* Add address ip/24 to dev in ns. */
static int addr_add(const char *ns, const char *ip, const char *dev, char *err, size_t errlen)
{
	char cidr[48];

	snprintf(cidr, sizeof(cidr), "%s/24", ip);
	return IPN(ns, "addr", "add", cidr, "dev", dev);
}

/* veth pair a(ns_a) <-> b(ns_b), created inside ns_a so nothing appears in the caller's ns. */
static int veth(const char *ns_a, const char *a, const char *ns_b, const char *b, char *err,
		size_t errlen)
{
	int rc = IPN(ns_a, "link", "add", a, "type", "veth", "peer", "name", b, "netns", ns_b);

	if (rc == 0)
		rc = IPN(ns_a, "link", "set", a, "up");
	if (rc == 0)
		rc = IPN(ns_b, "link", "set", b, "up");
	return rc;
}

/* The nftables ruleset of the middlebox, or NULL when it needs none. */
static int nft_rules(const struct lab_plan *p, char *buf, size_t len)
{
	int n = 0;

	if (p->middle < 0 || p->middle_kind == SIM_NODE_L7LB)
		return 0;
	n += snprintf(buf + n, len - (size_t)n, "table ip twk_lab {\n");
	if (p->middle_kind == SIM_NODE_L4LB)
		n += snprintf(buf + n, len - (size_t)n,
			      " chain pre {\n  type nat hook prerouting priority dstnat;\n"
			      "  ip daddr %s tcp dport %d-%u dnat to %s\n }\n",
			      LAB_VIP, LAB_SERVER_PORT, LAB_SERVER_PORT + p->server_ports - 1,
			      lab_addr_server(p));
	/* NAT and FULLNAT L4 balancer: the server sees the middlebox's address */
	n += snprintf(buf + n, len - (size_t)n,
		      " chain post {\n  type nat hook postrouting priority srcnat;\n"
		      "  oifname \"m1\" masquerade%s\n }\n",
		      /* sim's random mapping: a port drawn per flow, never the inside one */
		      p->middle_kind == SIM_NODE_NAT && p->mapping == SIM_NAT_RANDOM ?
			      " fully-random" : "");
	if (p->strip_timestamps)
		/* NOPs over the option in both directions: neither end sees the peer's TSval,
		 * so timestamps are never negotiated (§6) */
		n += snprintf(buf + n, len - (size_t)n,
			      " chain strip {\n  type filter hook forward priority mangle;\n"
			      "  meta l4proto tcp reset tcp option timestamp\n }\n");
	n += snprintf(buf + n, len - (size_t)n, "}\n");
	return n >= (int)len ? -ENOSPC : n;
}

/* What the probe child reports about the first sysctl that does not take. */
struct probe_msg {
	int host, idx;
	int err;       /* -errno of the write, or 0 when it read back otherwise */
	char got[32];  /* what it read back */
};

/* Equal up to runs of blanks (ip_local_port_range reads back "lo\thi"). */
static bool same_value(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ' || *a == '\t')
			a++;
		while (*b == ' ' || *b == '\t')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		for (; *a && *a != ' ' && *a != '\t'; a++, b++)
			if (*a != *b)
				return false;
		if (*b && *b != ' ' && *b != '\t')
			return false;
	}
}

/* The probe child: in a namespace of its own, write and read back each sysctl of p. Exit 0
 * (a probe_msg on fd when one does not take), or 10 when it may not unshare. */
static void probe_child(const struct lab_plan *p, int fd)
{
	struct probe_msg m;

	if (unshare(CLONE_NEWNET) < 0)
		_exit(10);
	for (int i = 0; i < p->nhosts; i++) {
		for (int k = 0; k < p->hosts[i].nsysctl; k++) {
			const struct lab_sysctl *s = &p->hosts[i].sysctl[k];
			int rc = kproc_sysctl_write(s->name, s->value);

			memset(&m, 0, sizeof(m));
			m.host = i;
			m.idx = k;
			m.err = rc;
			if (rc == 0)
				rc = kproc_sysctl_read(s->name, m.got, sizeof(m.got));
			if (rc < 0 && m.err == 0)
				m.err = rc;
			if (m.err < 0 || !same_value(m.got, s->value)) {
				if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
					_exit(11);
				_exit(0);
			}
		}
	}
	_exit(0);
}

/* Why sysctl s does not take, from what the probe saw. */
static void probe_why(const struct lab_sysctl *s, const struct probe_msg *m, char *err,
		      size_t errlen)
{
	struct utsname u;
	const char *rel = uname(&u) == 0 ? u.release : "?";
	char path[160];

	if (m->err == -ENOENT) {
		if (kproc_sysctl_path(s->name, path, sizeof(path)) == 0 && access(path, F_OK) == 0)
			snprintf(err, errlen, "%s is not per network namespace on this kernel (%s): "
				 "the lab would have to change the host's, which it never does",
				 s->name, rel);
		else
			snprintf(err, errlen, "%s does not exist on this kernel (%s)%s%s",
				 s->name, rel, s->since ? "; it came in " : "",
				 s->since ? s->since : "");
	} else if (m->err < 0) {
		snprintf(err, errlen, "this kernel (%s) refuses %s = %s: %s", rel, s->name,
			 s->value, strerror(-m->err));
	} else {
		snprintf(err, errlen, "this kernel (%s) takes %s = %s but reads back '%s'", rel,
			 s->name, s->value, m->got);
	}
}

int lab_topo_probe(const struct lab_plan *p, int *host, int *idx, char *err, size_t errlen)
{
	struct probe_msg m;
	int fds[2], status, rc = 0;
	ssize_t n;
	pid_t pid;

	*host = *idx = -1;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-rc));
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "fork: %s", strerror(-rc));
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		probe_child(p, fds[1]);
	}
	close(fds[1]);
	fds[1] = -1;
	while ((n = read(fds[0], &m, sizeof(m))) < 0 && errno == EINTR)
		;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(m)) {
		*host = m.host;
		*idx = m.idx;
		probe_why(&p->hosts[m.host].sysctl[m.idx], &m, err, errlen);
		rc = -EOPNOTSUPP;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 10) {
		/* not allowed to make a namespace: whether each exists, read-only */
		for (int i = 0; i < p->nhosts && rc == 0; i++) {
			for (int k = 0; k < p->hosts[i].nsysctl && rc == 0; k++) {
				char path[160];

				if (kproc_sysctl_path(p->hosts[i].sysctl[k].name, path,
						      sizeof(path)) < 0 || access(path, F_OK) == 0)
					continue;
				memset(&m, 0, sizeof(m));
				m.err = -ENOENT;
				*host = i;
				*idx = k;
				probe_why(&p->hosts[i].sysctl[k], &m, err, errlen);
				rc = -EOPNOTSUPP;
			}
		}
	}
out:
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
}

int lab_topo_build(struct lab_topo *t, const struct lab_plan *p, char *err, size_t errlen)
{
	const char *cns = t->ns[0], *sns = t->ns[p->nhosts - 1];
	char ip[32], rules[1024];
	int rc;

	for (int i = 0; i < t->n; i++) {
		const char *argv[] = { "ip", "netns", "add", t->ns[i], NULL };

		if (ns_exists(t->ns[i])) {
			snprintf(err, errlen, "namespace %s exists and is not ours: not touching it",
				 t->ns[i]);
			return -EEXIST;
		}
		lock_record(t, t->ns[i]);
		rc = lab_cmd(argv, NULL, err, errlen);
		if (rc < 0)
			return rc;
		t->made[i] = true;
		rc = IPN(t->ns[i], "link", "set", "lo", "up");
		if (rc < 0)
			return rc;
	}
	if (p->middle < 0) {
		rc = veth(cns, "c0", sns, "s0", err, errlen);
		if (rc == 0)
			rc = addr_add(sns, LAB_SERVER_DIRECT, "s0", err, errlen);
	} else {
		const char *mns = t->ns[p->middle];

		rc = veth(cns, "c0", mns, "m0", err, errlen);
		if (rc == 0)
			rc = veth(mns, "m1", sns, "s0", err, errlen);
		if (rc == 0)
			rc = addr_add(mns, LAB_NET_FRONT ".254", "m0", err, errlen);
		for (unsigned i = 0; rc == 0 && i < p->middle_ips; i++)
			rc = addr_add(mns, lab_addr_middle_back(i, ip, sizeof(ip)), "m1", err,
				      errlen);
		if (rc == 0)
			rc = addr_add(sns, lab_addr_server(p), "s0", err, errlen);
	}
	for (unsigned i = 0; rc == 0 && i < p->client_ips; i++)
		rc = addr_add(cns, lab_addr_client(i, ip, sizeof(ip)), "c0", err, errlen);
	if (rc == 0 && p->middle >= 0) {
		/* routes after the addresses: the gateway must be on a connected subnet */
		rc = IPN(cns, "route", "add", "default", "via", LAB_NET_FRONT ".254");
		if (rc == 0)
			rc = IPN(sns, "route", "add", "default", "via", LAB_NET_BACK ".1");
	}
	if (rc < 0)
		return rc;
	rc = nft_rules(p, rules, sizeof(rules));
	if (rc > 0) {
		const char *argv[] = { "ip", "netns", "exec", t->ns[p->middle], "nft", "-f", "-",
				       NULL };

		rc = lab_cmd(argv, rules, err, errlen);
	}
	if (rc < 0)
		return rc;
	/* after the rules: conntrack's sysctls (mapping_timeout) are there once NAT is */
	for (int i = 0; i < p->nhosts; i++) {
		for (int k = 0; k < p->hosts[i].nsysctl; k++) {
			const struct lab_sysctl *s = &p->hosts[i].sysctl[k];
			char got[64] = "";

			rc = klab_sysctl_set(t->ns[i], s->name, s->value);
			if (rc == 0)
				rc = klab_sysctl_get(t->ns[i], s->name, got, sizeof(got));
			if (rc < 0) {
				snprintf(err, errlen, "sysctl %s=%s in %s: %s", s->name, s->value,
					 t->ns[i], strerror(-rc));
				return rc;
			}
			if (!same_value(got, s->value)) {
				snprintf(err, errlen, "sysctl %s=%s in %s reads back '%s'", s->name,
					 s->value, t->ns[i], got);
				return -EIO;
			}
		}
	}
	return 0;
}

int lab_topo_destroy(struct lab_topo *t)
{
	int left = 0;

	for (int i = 0; i < t->n; i++) {
		if (!t->made[i])
			continue;
		if (ns_delete(t->ns[i]) == 0 || !ns_exists(t->ns[i]))
			t->made[i] = false;
		else
			left++;
	}
	return left;
}
