/* Unit tests: the capture container's writer (0600, temporary name renamed into place, an
 * existing name or a symlink planted there refused or replaced, never written through) and its
 * incremental reader (pipes fed a byte at a time, the size bound against an endless stream, a
 * blocked read ended by a signal, EINTR that is no stop retried, trailing bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/capture.h"

static char dir[64];

static int setup(void **st)
{
	strcpy(dir, "/tmp/twkit-test-capture-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

static const char *at(const char *name)
{
	static char p[4][1024];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* entries in dir, "." and ".." aside */
static int nentries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	static char b[4096];
	FILE *f = fopen(path, "r");
	size_t n;
	assert_non_null(f);
	n = fread(b, 1, sizeof(b) - 1, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

static void write_small(struct cap_writer *w)
{
	cap_writer_add(w, CAP_FILE, "uname.release", "6.18.0", 6);
	cap_writer_add(w, CAP_MISSING, "/proc/slabinfo", "Permission denied", 17);
}

static void test_writer_mode_and_rename(void **st)
{
	struct cap_writer w;
	struct cap_reader r;
	struct stat sb;
	char err[256];
	mode_t old = umask(0);

	assert_int_equal(cap_writer_create(&w, at("c"), 0), 0);
	umask(old);
	write_small(&w);
	/* nothing under the final name until the capture is complete */
	assert_int_equal(lstat(at("c"), &sb), -1);
	assert_int_equal(nentries(), 1);
	assert_int_equal(cap_writer_close(&w), 0);
	assert_int_equal(lstat(at("c"), &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600); /* even with umask 0 */
	assert_int_equal(nentries(), 1);		/* the temporary name is gone */
	assert_int_equal(cap_reader_open(&r, at("c"), err, sizeof(err)), 0);
	assert_int_equal(r.nsec, 2);
	assert_memory_equal(cap_reader_find(&r, "uname.release")->data, "6.18.0", 6);
	cap_reader_fini(&r);

	/* an existing name is refused, early, and left alone */
	assert_int_equal(cap_writer_create(&w, at("c"), 0), -EEXIST);
	assert_int_equal(nentries(), 1);
	/* with CAP_CREATE_REPLACE it is replaced */
	assert_int_equal(cap_writer_create(&w, at("c"), CAP_CREATE_REPLACE), 0);
	cap_writer_add(&w, CAP_FILE, "uname.release", "7.0", 3);
	assert_int_equal(cap_writer_close(&w), 0);
	assert_int_equal(cap_reader_open(&r, at("c"), err, sizeof(err)), 0);
	assert_memory_equal(cap_reader_find(&r, "uname.release")->data, "7.0", 3);
	cap_reader_fini(&r);
	assert_int_equal(nentries(), 1);
}

static void test_writer_symlink(void **st)
{
	struct cap_writer w;
	struct stat sb;

	put_file(at("victim"), "root's file\n");
	assert_int_equal(symlink(at("victim"), at("link")), 0);
	assert_int_equal(symlink(at("nowhere"), at("dangling")), 0);
	/* without replace: a symlink, even dangling, is an existing name */
	assert_int_equal(cap_writer_create(&w, at("link"), 0), -EEXIST);
	assert_int_equal(cap_writer_create(&w, at("dangling"), 0), -EEXIST);
	assert_int_equal(lstat(at("nowhere"), &sb), -1);
	/* with replace: the link itself is replaced, what it points at is untouched */
	assert_int_equal(cap_writer_create(&w, at("link"), CAP_CREATE_REPLACE), 0);
	write_small(&w);
	assert_int_equal(cap_writer_close(&w), 0);
	assert_string_equal(slurp(at("victim")), "root's file\n");
	assert_int_equal(lstat(at("link"), &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(cap_writer_create(&w, at("dangling"), CAP_CREATE_REPLACE), 0);
	assert_int_equal(cap_writer_close(&w), 0);
	assert_int_equal(lstat(at("nowhere"), &sb), -1);
	assert_int_equal(lstat(at("dangling"), &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
}

static void test_writer_refusals_and_abort(void **st)
{
	struct cap_writer w;
	struct stat sb;
	char p[300];

	/* a name planted between create and close: the rename refuses it atomically */
	assert_int_equal(cap_writer_create(&w, at("late"), 0), 0);
	write_small(&w);
	put_file(at("late"), "someone else's\n");
	assert_int_equal(cap_writer_close(&w), -EEXIST);
	assert_string_equal(slurp(at("late")), "someone else's\n");
	assert_int_equal(nentries(), 1); /* the temporary file is removed */
	/* abort: neither the final nor the temporary name remains */
	assert_int_equal(cap_writer_create(&w, at("aborted"), 0), 0);
	write_small(&w);
	cap_writer_abort(&w);
	cap_writer_abort(&w); /* released: a no-op */
	assert_int_equal(lstat(at("aborted"), &sb), -1);
	assert_int_equal(nentries(), 1);
	/* a section over its bound: -E2BIG at close, nothing left (data is never read) */
	assert_int_equal(cap_writer_create(&w, at("big"), 0), 0);
	cap_writer_add(&w, CAP_FILE, "x", "", (size_t)CAP_MAX_DATA + 1);
	assert_int_equal(cap_writer_close(&w), -E2BIG);
	assert_int_equal(lstat(at("big"), &sb), -1);
	assert_int_equal(nentries(), 1);
	/* no such directory, a directory as target, a name ending in '/' */
	assert_int_equal(cap_writer_create(&w, at("nodir/c"), 0), -ENOENT);
	assert_int_equal(mkdir(at("sub"), 0700), 0);
	assert_int_equal(cap_writer_create(&w, at("sub"), CAP_CREATE_REPLACE), -EISDIR);
	snprintf(p, sizeof(p), "%s/", at("sub"));
	assert_int_equal(cap_writer_create(&w, p, 0), -EISDIR);
	rmdir(at("sub"));
	/* a long final name still gets a temporary name under NAME_MAX */
	memset(p, 'n', 250);
	p[250] = '\0';
	assert_int_equal(cap_writer_create(&w, at(p), 0), 0);
	assert_int_equal(cap_writer_close(&w), 0);
	assert_int_equal(lstat(at(p), &sb), 0);
}

/* ---- reader ---- */

/* A child writing `len` bytes of buf to the pipe's write end, `step` bytes per write(), then
 * `forever` repeating buf + skip (an endless stream) or closing. Returns the read end. */
static int feeder(const uint8_t *buf, size_t len, size_t step, size_t skip, bool forever,
		  pid_t *pid)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		do {
			for (size_t o = 0; o < len; o += step)
				if (write(p[1], buf + o, len - o < step ? len - o : step) < 0)
					_exit(0);
			buf += skip;
			len -= skip;
			skip = 0;
		} while (forever);
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A small capture's bytes (malloc'd) */
static uint8_t *small_capture(size_t *len)
{
	struct cap_writer w;
	FILE *f;
	uint8_t *b = malloc(1 << 16);
	assert_int_equal(cap_writer_open(&w, at("small")), 0);
	write_small(&w);
	assert_int_equal(cap_writer_close(&w), 0);
	f = fopen(at("small"), "rb");
	*len = fread(b, 1, 1 << 16, f);
	fclose(f);
	unlink(at("small"));
	return b;
}

static void test_reader_pipe_bytewise_and_fd_writer(void **st)
{
	struct cap_reader r;
	struct cap_writer w;
	char err[256];
	size_t len;
	uint8_t *b = small_capture(&len);
	pid_t pid;
	int fd = feeder(b, len, 1, 0, false, &pid);
	int p[2];

	assert_int_equal(cap_reader_read_fd(&r, fd, NULL, err, sizeof(err)), 0);
	assert_int_equal(r.len, len);
	assert_int_equal(r.nsec, 2);
	assert_string_equal(r.sec[1].name, "/proc/slabinfo");
	assert_memory_equal(r.sec[1].data, "Permission denied", 17);
	cap_reader_fini(&r);
	close(fd);
	waitpid(pid, NULL, 0);

	/* cap_writer_open_fd streams the same bytes onto a pipe; the fd stays ours */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(cap_writer_open_fd(&w, p[1]), 0);
	write_small(&w);
	assert_int_equal(cap_writer_close(&w), 0);
	assert_int_equal(fcntl(p[1], F_GETFD), 0);
	close(p[1]);
	assert_int_equal(cap_reader_read_fd(&r, p[0], NULL, err, sizeof(err)), 0);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.buf, b, len);
	cap_reader_fini(&r);
	close(p[0]);

	/* trailing bytes after the end marker, from a pipe */
	uint8_t *t = malloc(len + 5);
	memcpy(t, b, len);
	memcpy(t + len, "extra", 5);
	fd = feeder(t, len + 5, 7, 0, false, &pid);
	assert_int_equal(cap_reader_read_fd(&r, fd, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "5 bytes after the end marker"));
	assert_null(r.buf);
	close(fd);
	waitpid(pid, NULL, 0);
	/* every truncation through a pipe: refused, naming it */
	for (size_t cut = 0; cut < len; cut += 13) {
		fd = feeder(b, cut, 5, 0, false, &pid);
		assert_int_equal(cap_reader_read_fd(&r, fd, NULL, err, sizeof(err)), -EINVAL);
		assert_true(strstr(err, "truncated") || strstr(err, "not a twkit capture"));
		close(fd);
		waitpid(pid, NULL, 0);
	}
	free(t);
	free(b);
}

static void test_reader_bounds(void **st)
{
	struct cap_reader r;
	char err[256];
	int fd;
	pid_t pid;
	size_t len;
	uint8_t *b = small_capture(&len);
	/* an endless stream of well-formed 64 KiB sections after a header */
	size_t sl = 16 + 65536;
	uint8_t *s = calloc(1, 16 + sl);
	memcpy(s, b, 16);
	s[16] = CAP_DIAG4;
	s[16 + 8 + 2] = 1; /* data_len 65536, little-endian */
	/* the feeder repeats s + 16 (one section) after the header */
	struct cap_read_opts o = { .max_size = 1 << 20 };
	fd = feeder(s, 16 + sl, 4096, 16, true, &pid);
	assert_int_equal(cap_reader_read_fd(&r, fd, &o, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "larger than 1.0 MiB"));
	assert_null(r.buf);
	close(fd);
	reap(pid);

	/* /dev/zero: refused at its first 16 bytes */
	fd = open("/dev/zero", O_RDONLY);
	assert_int_equal(cap_reader_read_fd(&r, fd, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a twkit capture"));
	close(fd);

	/* a section announcing more than CAP_MAX_SIZE: refused before any of it is read */
	uint8_t *h = malloc(32);
	memcpy(h, b, 16);
	memset(h + 16, 0, 16);
	h[16] = CAP_FILE;
	h[16 + 8 + 3] = 0x7f; /* data_len 0x7ffffff0: within CAP_MAX_DATA, but the section
			       * ends past the 2 GiB bound */
	h[16 + 8 + 2] = 0xff;
	h[16 + 8 + 1] = 0xff;
	h[16 + 8 + 0] = 0xf0;
	assert_int_equal(cap_reader_parse(&r, h, 32, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "larger than 2.0 GiB"));
	/* ... and from a pipe, before waiting for the announced bytes */
	o.max_size = 0; /* the default: CAP_MAX_SIZE */
	h = calloc(1, 32);
	memcpy(h, b, 16);
	h[16] = CAP_FILE;
	h[16 + 8 + 3] = 0x80; /* exactly CAP_MAX_DATA: its section ends past the bound */
	fd = feeder(h, 32, 32, 0, false, &pid);
	assert_int_equal(cap_reader_read_fd(&r, fd, &o, err, sizeof(err)), -EFBIG);
	close(fd);
	reap(pid);
	free(h);
	free(s);
	free(b);
}

static volatile sig_atomic_t stop, alarms;

static void on_alarm_stop(int sig)
{
	stop = 1;
}

static void on_alarm_count(int sig)
{
	alarms++;
}

static void arm(void (*fn)(int), long usec)
{
	struct sigaction sa;
	struct itimerval it = { .it_value = { 0, usec } };
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn; /* no SA_RESTART: a blocked read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void test_reader_interrupt(void **st)
{
	struct cap_reader r;
	struct cap_read_opts o = { .stop = &stop };
	char err[256];
	int p[2];
	size_t len;
	uint8_t *b = small_capture(&len);
	pid_t pid;

	/* a read blocked on a pipe nobody writes: the signal's flag ends it */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], b, 20), 20);
	stop = 0;
	arm(on_alarm_stop, 50000);
	assert_int_equal(cap_reader_read_fd(&r, p[0], &o, err, sizeof(err)), -EINTR);
	assert_string_equal(err, "interrupted");
	assert_null(r.buf);
	/* a flag already set stops before reading */
	assert_int_equal(cap_reader_read_fd(&r, p[0], &o, err, sizeof(err)), -EINTR);
	close(p[0]);
	close(p[1]);

	/* EINTR from a signal that is no stop: the read goes on and completes */
	stop = 0;
	alarms = 0;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		usleep(200000);
		_exit(write(p[1], b, len) == (ssize_t)len ? 0 : 1);
	}
	close(p[1]);
	arm(on_alarm_count, 30000);
	assert_int_equal(cap_reader_read_fd(&r, p[0], &o, err, sizeof(err)), 0);
	assert_int_equal(alarms, 1);
	assert_int_equal(r.nsec, 2);
	cap_reader_fini(&r);
	close(p[0]);
	waitpid(pid, NULL, 0);
	signal(SIGALRM, SIG_DFL);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writer_mode_and_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_refusals_and_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_pipe_bytewise_and_fd_writer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reader_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_interrupt, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
