/*
 * lab_child — the processes of a lab run (see lab_child.h).
 */
#include "lab/lab_child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "kernel/lab_sample.h"
#include "kernel/netns.h"

#define LAB_START_WAIT_MS 5000   /* a listener must appear within this */
#define LAB_STOP_WAIT_MS 3000    /* SIGTERM, then SIGKILL after this */
#define LAB_OUT_MAX (16u << 20)  /* bench JSON larger than this is not ours */

static volatile sig_atomic_t relay_stop;

static void relay_on_signal(int sig)
{
	(void)sig;
	relay_stop = 1;
}

/* In a fresh child: die with the parent, get default signals back, enter ns. */
static int child_setup(const char *ns, pid_t parent, int out_fd)
{
	int saved, devnull;
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return -ESRCH;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		if (out_fd < 0)
			dup2(devnull, 1);
		close(devnull);
	}
	if (out_fd >= 0)
		dup2(out_fd, 1);
	return kns_enter(ns, &saved);
}

/* Fork and exec `exe argv...` inside ns; its stdout comes back through *out_fd when asked. */
int lab_child_exec(const char *ns, const char *exe, const char *const *argv, pid_t *pid,
		      int *out_fd)
{
	int p[2] = { -1, -1 };
	pid_t parent = getpid(), c;

	if (out_fd && pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	c = fork();
	if (c < 0) {
		int rc = -errno;

		if (out_fd) {
			close(p[0]);
			close(p[1]);
		}
		return rc;
	}
	if (c == 0) {
		if (child_setup(ns, parent, out_fd ? p[1] : -1) == 0)
			execv(exe, (char *const *)argv);
		_exit(127);
	}
	*pid = c;
	if (out_fd) {
		close(p[1]);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		*out_fd = p[0];
	}
	return 0;
}

/* Fork the relay inside ns; its report lines come back through *out_fd. */
int lab_child_relay(const char *ns, const struct lab_relay_cfg *rc_in, pid_t *pid, int *out_fd)
{
	int p[2];
	pid_t parent = getpid(), c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	c = fork();
	if (c < 0) {
		int rc = -errno;

		close(p[0]);
		close(p[1]);
		return rc;
	}
	if (c == 0) {
		struct lab_relay_cfg cfg = *rc_in;
		struct lab_relay_stats st;
		int rc;

		close(p[0]);
		if (child_setup(ns, parent, -1) < 0)
			_exit(127);
		signal(SIGINT, relay_on_signal);
		signal(SIGTERM, relay_on_signal);
		signal(SIGPIPE, SIG_IGN);
		cfg.report_fd = p[1];
		rc = lab_relay_run(&cfg, &relay_stop, &st);
		_exit(rc < 0 ? 1 : 0);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*pid = c;
	*out_fd = p[0];
	return 0;
}

/* Whether child pid has exited (reaped here); *status gets its wait status. */
bool lab_child_gone(pid_t pid, int *status)
{
	return pid > 0 && waitpid(pid, status, WNOHANG) == pid;
}

bool lab_child_gone_ru(pid_t pid, int *status, struct rusage *ru)
{
	return pid > 0 && wait4(pid, status, WNOHANG, ru) == pid;
}

/* SIGTERM each recorded child by PID, wait, SIGKILL the ones still there, reap all. */
void lab_children_stop(struct lab_children *ch)
{
	int64_t deadline = tw_mono_ns() + LAB_STOP_WAIT_MS * 1000000LL;
	int status;

	for (int i = 0; i < LAB_NCHILDREN; i++)
		if (ch->pid[i] > 0)
			kill(ch->pid[i], SIGTERM);
	for (int i = 0; i < LAB_NCHILDREN; i++) {
		while (ch->pid[i] > 0 && !lab_child_gone(ch->pid[i], &status)) {
			if (tw_mono_ns() > deadline) {
				kill(ch->pid[i], SIGKILL);
				waitpid(ch->pid[i], &status, 0);
				break;
			}
			usleep(10000);
		}
		ch->pid[i] = 0;
	}
}

/* Append what the client printed so far. */
void lab_child_read_client(struct lab_children *ch)
{
	for (;;) {
		ssize_t n;

		if (ch->out_cap - ch->out_len < 4096) {
			size_t cap = ch->out_cap ? ch->out_cap * 2 : 65536;
			char *b;

			if (cap > LAB_OUT_MAX)
				return;
			b = realloc(ch->out, cap);
			if (!b)
				return;
			ch->out = b;
			ch->out_cap = cap;
		}
		n = read(ch->fd[LAB_CH_CLIENT], ch->out + ch->out_len, ch->out_cap - ch->out_len - 1);
		if (n <= 0)
			return;
		ch->out_len += (size_t)n;
		ch->out[ch->out_len] = '\0';
	}
}

/* Wait until ns has n listeners on [lo, hi]. 0 or -ETIMEDOUT / -errno. */
int lab_child_wait_listen(const char *ns, uint16_t lo, uint16_t hi, uint32_t n, pid_t pid)
{
	int64_t deadline = tw_mono_ns() + LAB_START_WAIT_MS * 1000000LL;
	int status;

	while (tw_mono_ns() < deadline) {
		uint32_t got = 0;
		int rc = klab_listeners(ns, lo, hi, &got);

		if (rc < 0)
			return rc;
		if (got >= n)
			return 0;
		if (lab_child_gone(pid, &status))
			return -ECHILD;
		usleep(20000);
	}
	return -ETIMEDOUT;
}

/* doctor in one namespace: its JSON is read to EOF (at most this much, within this time) */
#define LAB_DOC_MAX_BYTES (4u << 20)
#define LAB_DOC_TIMEOUT_NS (15LL * 1000000000LL)

/* `twkit doctor --json` inside ns, its findings into *out. Never fails the run: a doctor
 * that cannot run leaves out->have false with the reason (and the check says so). */
void lab_child_doctor(const char *exe, const char *ns, double at_s, struct lab_doc_sample *out)
{
	const char *argv[] = { "twkit", "doctor", "--json", NULL };
	int64_t deadline = tw_mono_ns() + LAB_DOC_TIMEOUT_NS;
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	int fd = -1, status = 0;
	pid_t pid = 0;

	memset(out, 0, sizeof(*out));
	out->at_s = at_s;
	if (!buf || lab_child_exec(ns, exe, argv, &pid, &fd) < 0) {
		snprintf(out->error, sizeof(out->error), "cannot start twkit doctor");
		goto out;
	}
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t n;

		if (tw_mono_ns() > deadline) {
			snprintf(out->error, sizeof(out->error), "twkit doctor took over 15 s");
			kill(pid, SIGKILL);
			break;
		}
		poll(&pf, 1, 100);
		if (len + 1 >= cap) {
			char *nb = cap < LAB_DOC_MAX_BYTES ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				snprintf(out->error, sizeof(out->error), "doctor's JSON over 4 MiB");
				kill(pid, SIGKILL);
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	waitpid(pid, &status, 0);
	if (!out->error[0] && (!WIFEXITED(status) || WEXITSTATUS(status) > 1))
		snprintf(out->error, sizeof(out->error), "twkit doctor exited with %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	else if (!out->error[0])
		lab_doc_parse(buf, len, out);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
}


/* The next complete report line of the twkit relay, parsed; false when none is waiting. */
bool lab_child_relay_next(struct lab_children *ch, double *t, struct lab_relay_stats *st)
{
	char c;

	while (read(ch->fd[LAB_CH_RELAY], &c, 1) == 1) {
		if (c != '\n') {
			if (ch->line_len < sizeof(ch->line) - 1)
				ch->line[ch->line_len++] = c;
			continue;
		}
		ch->line[ch->line_len] = '\0';
		ch->line_len = 0;
		if (lab_relay_parse_line(ch->line, t, st) == 0)
			return true;
	}
	return false;
}
