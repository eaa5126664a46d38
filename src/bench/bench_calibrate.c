/*
 * bench_calibrate — the measurement behind `twkit bench --calibrate` (see bench_calibrate.h).
 *
 * Why failing connect()s: with tcp_tw_reuse=0 a TIME-WAIT is never taken over by the search
 * (§2.2), so a connect() toward the destination that holds every port of the range examines
 * all N of them (both parity passes, §3.2) and fails; its kernel time is the search's price
 * for N probes plus a fixed part, with no handshake mixed in. The same socket is reused: a
 * failed connect() leaves it unbound and closed, ready for the next.
 * Why connect() to fill the range (not bind()): ports taken by bind() carry a bind bucket
 * the search skips without the established-hash check; ports left by connect()'s own search
 * are the ones a churn load leaves, and cost the full check.
 */
#include "bench/bench_calibrate.h"
#include "bench/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/jsonw.h"
#include "common/units.h"
#include "kernel/procfs.h"
#include "verbs.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

#define CAL_SCHEMA "twkit.bench.calibrate/1"
#define CAL_LO                                                                                     \
	32768u /* the range starts here, as the default one does: even, so an even N ends odd */
#define CAL_DPORT 20000u /* the destination: outside the range */
/*
 * Range sizes measured (even: the ends then differ in parity, as the kernel prefers). The
 * price per port is not one number: measured on a 6.18 VM it is ~80 ns while the range's
 * TIME-WAITs and bind buckets fit in the caches (up to ~1k ports) and ~125 ns from ~8k ports
 * to the default 28,232. So two lines: over the sizes from CAL_FIT_MIN up, the price per port
 * a churn over a full range pays (the slope given to the simulator); over the small sizes,
 * whose probes stay in the caches, the fixed part (its intercept) and the in-cache price.
 */
static const uint32_t cal_sizes[] = {2, 16, 64, 256, 8192, 16384, 28232};
#define CAL_NSIZES ((int)(sizeof(cal_sizes) / sizeof(cal_sizes[0])))
#define CAL_FIT_MIN 8192u
#define CAL_REPEATS 3
#define CAL_CONN_LO 61000u		/* whole connections: on ports above the filled range */
#define CAL_CONN_MAX 4500u		/* of the 4,536 ports from CAL_CONN_LO up */
#define CAL_TARGET_NS (250 * NS_PER_MS) /* kernel time per point: many scheduler ticks */
#define CAL_MIN_BATCH 16
#define CAL_MAX_BATCH 200000
#define CAL_FILL_LIMIT_NS (60LL * NS_PER_SEC) /* the fill gives up past this */
#define CAL_CHILD_LIMIT_S 120		      /* the parent kills a child that runs longer */

int bench_cal_fit(const double *x, const double *y, int n, double *slope, double *intercept,
		  double *r2)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0, syy = 0;

	if (n < 2)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	for (int i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
		syy += (y[i] - my) * (y[i] - my);
	}
	if (sxx <= 0)
		return -EINVAL;
	*slope = sxy / sxx;
	*intercept = my - *slope * mx;
	*r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1.0;
	return 0;
}

static int64_t sys_ns_now(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru) < 0)
		return 0;
	return (int64_t)ru.ru_stime.tv_sec * NS_PER_SEC + (int64_t)ru.ru_stime.tv_usec * 1000;
}

static int64_t cpu_ns_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int lo_up(void)
{
	struct ifreq ifr;
	int rc = 0, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int set_range(uint32_t n)
{
	char v[32];
	snprintf(v, sizeof(v), "%u %u", CAL_LO, CAL_LO + n - 1);
	return kproc_sysctl_write("net.ipv4.ip_local_port_range", v);
}

static struct sockaddr_in dest(void)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(CAL_DPORT);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* One client-closed connection to the listener: the client's 4-tuple stays in TIME-WAIT.
 * 0, or -errno of the connect() (-EADDRNOTAVAIL: the range is full). */
static int one_time_wait(int lfd, uint16_t port)
{
	struct sockaddr_in d = dest();
	char b;
	uint32_t pr = (uint32_t)port << 16 | port;
	int a, rc = 0, c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		return -errno;
	/* IP_LOCAL_PORT_RANGE of one port (6.3+): the search examines that port alone, so the
	 * fill costs N probes instead of about N^2 / 2; the port is still taken by the search,
	 * as a churn load's are. Without the option the search walks (slower, same result). */
	(void)setsockopt(c, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &pr, sizeof(pr));
	if (connect(c, (struct sockaddr *)&d, sizeof(d)) < 0) {
		rc = -errno;
		close(c);
		return rc;
	}
	a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (a < 0) {
		rc = -errno;
		close(c);
		return rc;
	}
	close(c);		   /* the client's FIN first: it keeps the TIME-WAIT */
	if (recv(a, &b, 1, 0) < 0) /* wait for that FIN, so the server closes second */
		rc = -errno;
	close(a);
	return rc;
}

/* Time failing connect()s with the range at n ports: a batch to learn their cost, then
 * CAL_REPEATS batches of CAL_TARGET_NS / CAL_REPEATS each, and the cheapest batch's price
 * per connect (CPU time is the process's own, but other tenants' cache traffic inflates it:
 * the least disturbed batch is the kernel's price). 0, or -EPROTO when one does not fail with
 * EADDRNOTAVAIL (the range is not all TIME-WAIT). */
static int time_point(uint32_t n, struct bench_cal_point *pt)
{
	struct sockaddr_in d = dest();
	uint64_t batch = CAL_MIN_BATCH;
	int rc = 0, fd;

	if ((rc = set_range(n)) < 0)
		return rc;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	pt->ports = n;
	pt->connects = 0;
	pt->sys_ns = pt->cpu_ns = 0;
	for (int round = 0; round <= CAL_REPEATS && rc == 0; round++) {
		int64_t sys0 = sys_ns_now(), cpu0 = cpu_ns_now(), sys, cpu;
		for (uint64_t i = 0; i < batch; i++) {
			if (connect(fd, (struct sockaddr *)&d, sizeof(d)) == 0 ||
			    errno != EADDRNOTAVAIL) {
				rc = -EPROTO;
				break;
			}
		}
		if (rc < 0)
			break;
		sys = sys_ns_now() - sys0;
		cpu = cpu_ns_now() - cpu0;
		if (round == 0) {
			int64_t per = cpu / (int64_t)batch;
			uint64_t want =
			    per > 0 ? (uint64_t)(CAL_TARGET_NS / CAL_REPEATS / per) : CAL_MAX_BATCH;
			batch = want < CAL_MIN_BATCH   ? CAL_MIN_BATCH
				: want > CAL_MAX_BATCH ? CAL_MAX_BATCH
						       : want;
			continue;
		}
		pt->connects += batch;
		if (pt->sys_ns == 0 || (double)sys / (double)batch < pt->sys_ns) {
			pt->sys_ns = (double)sys / (double)batch;
			pt->cpu_ns = (double)cpu / (double)batch;
		}
	}
	close(fd);
	return rc;
}

/* Fill the largest range with TIME-WAIT toward the listener. 0 or -errno. */
static int fill(int lfd, uint32_t n, uint32_t *filled, int quiet)
{
	int64_t t0 = tw_mono_ns();
	int rc;

	if ((rc = set_range(n)) < 0)
		return rc;
	for (*filled = 0; *filled < n; (*filled)++) {
		if ((*filled & 255) == 0 && tw_mono_ns() - t0 > CAL_FILL_LIMIT_NS)
			return -ETIMEDOUT;
		if ((rc = one_time_wait(lfd, (uint16_t)(CAL_LO + *filled))) < 0)
			return rc;
	}
	if (!quiet)
		fprintf(stderr, "twkit bench: %u ports in TIME-WAIT toward 127.0.0.1:%u (%.1f s)\n",
			n, CAL_DPORT, (double)(tw_mono_ns() - t0) / 1e9);
	return 0;
}

/*
 * A whole connection's kernel time at the lowest occupancy: client-closed connections on the
 * free ports above the filled range, each told its own port (IP_LOCAL_PORT_RANGE of one), so
 * its search makes exactly one probe. On loopback both ends run in this thread. 0 or -errno.
 */
static int time_connections(int lfd, struct bench_cal_result *res)
{
	uint32_t p = CAL_CONN_LO, per = CAL_CONN_MAX / CAL_REPEATS;
	int rc;

	/* the netns range must hold the ports the sockets ask for */
	if ((rc = kproc_sysctl_write("net.ipv4.ip_local_port_range", "32768 65535")) < 0)
		return rc;
	res->conns = 0;
	res->conn_sys_ns = res->conn_cpu_ns = 0;
	/* CAL_REPEATS batches on fresh ports, the cheapest kept (as for the points) */
	for (int b = 0; b < CAL_REPEATS; b++) {
		int64_t sys0 = sys_ns_now(), cpu0 = cpu_ns_now();
		double sys, cpu;
		for (uint32_t i = 0; i < per; i++, p++)
			if ((rc = one_time_wait(lfd, (uint16_t)p)) < 0)
				return rc;
		sys = (double)(sys_ns_now() - sys0) / per;
		cpu = (double)(cpu_ns_now() - cpu0) / per;
		res->conns += per;
		if (res->conn_sys_ns == 0 || sys < res->conn_sys_ns) {
			res->conn_sys_ns = sys;
			res->conn_cpu_ns = cpu;
		}
	}
	return 0;
}

/* What the child reports through the pipe. */
struct cal_msg {
	int rc; /* 0 or -errno */
	char what[96];
	struct bench_cal_result res;
};

static void child(int wfd, int quiet)
{
	struct cal_msg m;
	struct sockaddr_in d = dest();
	char b[32];
	int one = 1, lfd = -1;
	uint32_t nmax = cal_sizes[CAL_NSIZES - 1];
	int64_t t0 = tw_mono_ns();
	double x[CAL_NSIZES], y[CAL_NSIZES], xs[CAL_NSIZES], ys[CAL_NSIZES], r2s;
	int nfit = 0, nsmall = 0;

	memset(&m, 0, sizeof(m));
#define STEP(call, text)                                                                           \
	if ((m.rc = (call)) < 0) {                                                                 \
		snprintf(m.what, sizeof(m.what), "%s", text);                                      \
		goto out;                                                                          \
	}
	STEP(unshare(CLONE_NEWNET) < 0 ? -errno : 0, "unshare(CLONE_NEWNET)");
	STEP(lo_up(), "bringing lo up");
	STEP(kproc_sysctl_write("net.ipv4.tcp_tw_reuse", "0"), "net.ipv4.tcp_tw_reuse=0");
	/* room for every TIME-WAIT the fill makes, whatever this namespace's default */
	STEP(kproc_sysctl_write("net.ipv4.tcp_max_tw_buckets", "262144"),
	     "net.ipv4.tcp_max_tw_buckets");
	if (kproc_sysctl_read("net.ipv4.tcp_timestamps", b, sizeof(b)) == 0)
		m.res.timestamps = atoi(b);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	STEP(lfd < 0 ? -errno : 0, "socket()");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	STEP(bind(lfd, (struct sockaddr *)&d, sizeof(d)) < 0 ? -errno : 0, "bind(127.0.0.1:20000)");
	STEP(listen(lfd, 64) < 0 ? -errno : 0, "listen()");
	STEP(fill(lfd, nmax, &m.res.filled, quiet), "filling the range with TIME-WAIT");
	for (int i = 0; i < CAL_NSIZES; i++) {
		STEP(time_point(cal_sizes[i], &m.res.pt[i]),
		     "timing failing connect()s (a port of the range was free)");
		m.res.npoints++;
		if (cal_sizes[i] >= CAL_FIT_MIN) {
			x[nfit] = cal_sizes[i];
			y[nfit++] = m.res.pt[i].sys_ns;
		} else {
			xs[nsmall] = cal_sizes[i];
			ys[nsmall++] = m.res.pt[i].sys_ns;
		}
	}
	STEP(bench_cal_fit(x, y, nfit, &m.res.probe_ns, &m.res.fit_intercept_ns, &m.res.r2),
	     "fitting the line over the large ranges");
	STEP(bench_cal_fit(xs, ys, nsmall, &m.res.small_probe_ns, &m.res.base_ns, &r2s),
	     "fitting the line over the small ranges");
	m.res.fit_min = CAL_FIT_MIN;
	STEP(time_connections(lfd, &m.res), "timing whole connections");
	m.res.range_lo = CAL_LO;
	m.res.dport = CAL_DPORT;
	m.res.elapsed_s = (double)(tw_mono_ns() - t0) / 1e9;
#undef STEP
out:
	if (lfd >= 0)
		close(lfd);
	/* the namespace, its sockets and its TIME-WAITs go with this process */
	if (write(wfd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(1);
	_exit(0);
}

int bench_calibrate(struct bench_cal_result *res, int quiet, char *err, size_t errlen)
{
	struct cal_msg m;
	struct utsname u;
	int p[2], st, rc = 0;
	size_t got = 0;
	pid_t pid;
	int64_t deadline = tw_mono_ns() + CAL_CHILD_LIMIT_S * NS_PER_SEC;

	memset(res, 0, sizeof(*res));
	memset(&m, 0, sizeof(m));
	if (geteuid() != 0) {
		snprintf(err, errlen,
			 "--calibrate needs root: it makes a private network namespace "
			 "and changes sysctls there");
		return -EPERM;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return rc;
	}
	if (pid == 0) {
		close(p[0]);
		child(p[1], quiet);
	}
	close(p[1]);
	while (got < sizeof(m)) {
		struct pollfd pf = {.fd = p[0], .events = POLLIN};
		int64_t left = deadline - tw_mono_ns();
		ssize_t r;
		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (poll(&pf, 1, (int)(left / NS_PER_MS) + 1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		r = read(p[0], (char *)&m + got, sizeof(m) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EPIPE;
			break;
		}
		got += (size_t)r;
	}
	close(p[0]);
	if (rc < 0)
		kill(pid, SIGKILL); /* ours; its namespace dies with it */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen, "the measurement ran past %d s and was stopped",
			 CAL_CHILD_LIMIT_S);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "the measuring process ended without a result (%s)",
			 strerror(-rc));
		return rc;
	}
	if (m.rc < 0) {
		snprintf(err, errlen, "%s: %s", m.what, strerror(-m.rc));
		return m.rc == -EACCES ? -EPERM : m.rc;
	}
	*res = m.res;
	if (uname(&u) == 0)
		snprintf(res->kernel, sizeof(res->kernel), "%s", u.release);
	return 0;
}

/* The sim's settings, whole nanoseconds: the price per probe, and the rest of a connection at
 * one probe (the sim adds probes x price to it), never below 0. */
static long probe_set(const struct bench_cal_result *r)
{
	return r->probe_ns > 0 ? lround(r->probe_ns) : 0;
}

static long base_set(const struct bench_cal_result *r)
{
	double b = r->conn_sys_ns - (double)probe_set(r);
	return b > 0 ? lround(b) : 0;
}

void bench_cal_report_text(FILE *f, const struct bench_cal_result *r)
{
	fprintf(f,
		"twkit bench --calibrate: connect()'s port search on %s (private network "
		"namespace, tcp_tw_reuse=0, tcp_timestamps=%d, TIME-WAIT toward 127.0.0.1:%u)\n",
		r->kernel, r->timestamps, r->dport);
	fprintf(f, "  %-24s %-18s %s\n", "ports (all TIME-WAIT)", "failing connects",
		"kernel time per connect");
	for (int i = 0; i < r->npoints; i++)
		fprintf(f, "  %-24u %-18llu %.2f us\n", r->pt[i].ports,
			(unsigned long long)r->pt[i].connects, r->pt[i].sys_ns / 1e3);
	fprintf(f,
		"  per port examined  %.1f ns (slope over %u ports and more, r^2 %.4f; %.1f ns "
		"while the range fits in the caches)\n",
		r->probe_ns, r->fit_min, r->r2, r->small_probe_ns);
	fprintf(f, "  failing connect()  %.0f ns fixed part (intercept over the small ranges)\n",
		r->base_ns);
	fprintf(f,
		"  whole connection   %.1f us of kernel time at one probe (%u client-closed "
		"connections, both ends on loopback)\n",
		r->conn_sys_ns / 1e3, r->conns);
	fprintf(f, "  measured in        %.1f s\n", r->elapsed_s);
	/* without a section, sim's --set gives the keys to every connecting node (client, l7lb);
	 * NODE.connect_probe_ns=N sets one node's */
	fprintf(f, "\ndoctor setting: --connect-probe-ns %ld --connect-base-ns %ld\n", probe_set(r),
		base_set(r));
	fprintf(f, "sim setting: --set connect_probe_ns=%ld --set connect_base_ns=%ld\n",
		probe_set(r), base_set(r));
}

void bench_cal_report_json(FILE *f, const struct bench_cal_result *r)
{
	struct jw w;
	char s[128]; /* two --set KEY=N with 20-digit N fit */
	jw_init(&w, f, true);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "schema", CAL_SCHEMA);
	jw_str(&w, "kernel", r->kernel);
	jw_obj_begin(&w, "method");
	jw_int(&w, "tcp_tw_reuse", 0);
	jw_int(&w, "tcp_timestamps", r->timestamps);
	jw_str(&w, "destination", "127.0.0.1");
	jw_uint(&w, "dport", r->dport);
	jw_uint(&w, "range_lo", r->range_lo);
	jw_uint(&w, "time_wait_filled", r->filled);
	jw_str(&w, "clock", "ru_stime (getrusage RUSAGE_THREAD)");
	jw_obj_end(&w);
	jw_arr_begin(&w, "points");
	for (int i = 0; i < r->npoints; i++) {
		jw_obj_begin(&w, NULL);
		jw_uint(&w, "ports", r->pt[i].ports);
		jw_uint(&w, "connects", r->pt[i].connects);
		jw_double(&w, "sys_ns_per_connect", r->pt[i].sys_ns, 1);
		jw_double(&w, "cpu_ns_per_connect", r->pt[i].cpu_ns, 1);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_double(&w, "probe_ns", r->probe_ns, 2);
	jw_double(&w, "base_ns", r->base_ns, 1);
	jw_double(&w, "r2", r->r2, 5);
	jw_uint(&w, "fit_min_ports", r->fit_min);
	jw_double(&w, "fit_intercept_ns", r->fit_intercept_ns, 1);
	jw_double(&w, "small_probe_ns", r->small_probe_ns, 2);
	jw_uint(&w, "connections", r->conns);
	jw_double(&w, "connection_sys_ns", r->conn_sys_ns, 1);
	jw_double(&w, "connection_cpu_ns", r->conn_cpu_ns, 1);
	jw_double(&w, "elapsed_s", r->elapsed_s, 3);
	jw_obj_begin(&w, "sim");
	jw_int(&w, "connect_probe_ns", probe_set(r));
	jw_int(&w, "connect_base_ns", base_set(r));
	snprintf(s, sizeof(s), "--set connect_probe_ns=%ld --set connect_base_ns=%ld", probe_set(r),
		 base_set(r));
	jw_str(&w, "args", s);
	jw_obj_end(&w);
	jw_obj_begin(&w, "doctor"); /* the same price, as twkit doctor's options */
	snprintf(s, sizeof(s), "--connect-probe-ns %ld --connect-base-ns %ld", probe_set(r),
		 base_set(r));
	jw_str(&w, "args", s);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_finish(&w);
}

int bench_calibrate_main(const struct bench_cfg *cfg)
{
	struct bench_cal_result r;
	char err[256];
	int rc = bench_calibrate(&r, cfg->quiet || cfg->json, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "twkit bench --calibrate: %s\n", err);
		return TWKIT_EXIT_RUNTIME;
	}
	if (cfg->json)
		bench_cal_report_json(stdout, &r);
	else
		bench_cal_report_text(stdout, &r);
	return TWKIT_EXIT_OK;
}
