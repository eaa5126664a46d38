/* Unit tests: the myth findings (myth-fin-timeout, myth-max-tw-buckets, myth-recycle-config,
 * timestamps-off), each firing in its case and silent in a healthy twin; the sysctl config
 * parser (spellings, comments, bounds, garbage), reading config files from a directory, and
 * their round trip through a capture. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor/analyse.h"
#include "doctor/findings.h"
#include "doctor/myths.h"
#include "kernel/capture.h"
#include "kernel/snapshot.h"

#include "doc_fixture.h"

static const char *const myth_ids[] = { "myth-fin-timeout", "myth-max-tw-buckets",
					"myth-recycle-config", "timestamps-off", NULL };

/* n client-closed TIME-WAIT sockets toward 192.0.2.1:80, 30 s old */
static void add_tw(struct snapshot *s, int n)
{
	for (int i = 0; i < n; i++)
		add(s, 6, 1, "10.0.0.1", 33000 + i % 28000, "192.0.2.1", 80, 30000, 0);
}

/* A healthy host on 6.18: the defaults, the key tcp_tw_recycle absent, no config lines. */
static void myth_base(struct snapshot *s)
{
	base(s);
	kcounters_set(&s->counters, "TcpExt.TCPTimeWaitOverflow", 0);
}

static bool has_ev(const struct doc_finding *f, const char *needle)
{
	for (int i = 0; i < f->nevidence; i++)
		if (strstr(f->evidence[i], needle))
			return true;
	return false;
}

static void run(const struct snapshot *s, struct doc_findings *fs)
{
	struct doc_analysis a;
	assert_int_equal(doc_analyse(s, &a), 0);
	doc_findings_run(s, &a, NULL, fs);
	doc_analysis_fini(&a);
}

static void assert_no_myth(const struct doc_findings *fs)
{
	for (int i = 0; myth_ids[i]; i++)
		if (find(fs, myth_ids[i]))
			fail_msg("%s fired on a healthy twin", myth_ids[i]);
}

static void feed(struct snapshot *s, const char *file, const char *text)
{
	assert_int_equal(snapshot_feed_conf(s, file, text, strlen(text)), 0);
}

static void test_healthy_twin(void **st)
{
	struct snapshot s;
	static struct doc_findings fs;
	myth_base(&s);
	add_tw(&s, 500);
	/* config lines that keep the defaults are no myth */
	feed(&s, "/etc/sysctl.d/10-ok.conf",
	     "net.ipv4.tcp_fin_timeout = 60\nnet.ipv4.tcp_timestamps = 1\n"
	     "net.ipv4.tcp_max_tw_buckets = 262144\n");
	run(&s, &fs);
	assert_no_myth(&fs);
	/* the doctor's own findings were not crowded out */
	assert_true(fs.n <= DOC_MAX_FINDINGS);
	snapshot_fini(&s);
}

static void test_fin_timeout(void **st)
{
	struct snapshot s;
	static struct doc_findings fs;
	const struct doc_finding *f;
	myth_base(&s);
	s.set.tcp_fin_timeout = 10;
	feed(&s, "/etc/sysctl.d/50-tw.conf", "# shorten TIME-WAIT\nnet.ipv4.tcp_fin_timeout=10\n");
	run(&s, &fs);
	f = find(&fs, "myth-fin-timeout");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_INFO);
	assert_non_null(strstr(f->summary, "does not shorten TIME-WAIT"));
	assert_true(has_ev(f, "net.ipv4.tcp_fin_timeout = 10"));
	assert_true(has_ev(f, "/etc/sysctl.d/50-tw.conf:2"));
	/* the FIN_WAIT2 bound comes from the model: max(10 s, 3.5 x 200 ms) */
	assert_true(has_ev(f, "at most 10.0 s"));
	/* many TIME-WAIT: someone is fighting them with the wrong knob */
	add_tw(&s, 6000);
	run(&s, &fs);
	assert_int_equal(find(&fs, "myth-fin-timeout")->sev, DOC_WARNING);
	/* raised, or at the default: nothing */
	s.set.tcp_fin_timeout = 60;
	run(&s, &fs);
	assert_null(find(&fs, "myth-fin-timeout"));
	s.set.tcp_fin_timeout = 120;
	run(&s, &fs);
	assert_null(find(&fs, "myth-fin-timeout"));
	snapshot_fini(&s);
}

static void test_max_tw_buckets(void **st)
{
	struct snapshot s;
	static struct doc_findings fs;
	const struct doc_finding *f;
	myth_base(&s);
	/* lowered live, TIME-WAIT at the limit */
	s.set.tcp_max_tw_buckets = 100;
	add_tw(&s, 100);
	run(&s, &fs);
	f = find(&fs, "myth-max-tw-buckets");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_WARNING);
	assert_true(has_ev(f, "no sysctl config file sets it"));
	assert_non_null(find(&fs, "tw-bucket-overflow")); /* the overflow itself, still there */
	/* lowered but far from biting: no TIME-WAIT at the limit, no overflow */
	s.nsocks = 10;
	run(&s, &fs);
	assert_null(find(&fs, "myth-max-tw-buckets"));
	/* ... until an overflow has been counted */
	kcounters_set(&s.counters, "TcpExt.TCPTimeWaitOverflow", 7);
	run(&s, &fs);
	f = find(&fs, "myth-max-tw-buckets");
	assert_non_null(f);
	assert_true(has_ev(f, "TcpExt.TCPTimeWaitOverflow = 7"));
	/* the default limit with overflows: tw-bucket-overflow's alone */
	s.set.tcp_max_tw_buckets = 262144;
	run(&s, &fs);
	assert_null(find(&fs, "myth-max-tw-buckets"));
	assert_non_null(find(&fs, "tw-bucket-overflow"));
	/* a config line that lowers it names the file and line */
	feed(&s, "/etc/sysctl.conf", "\n\nnet/ipv4/tcp_max_tw_buckets = 5000\n");
	s.set.tcp_max_tw_buckets = 5000;
	run(&s, &fs);
	f = find(&fs, "myth-max-tw-buckets");
	assert_non_null(f);
	assert_non_null(strstr(f ? f->summary : "", "/etc/sysctl.conf:3"));
	assert_true(has_ev(f, "set in /etc/sysctl.conf:3: net.ipv4.tcp_max_tw_buckets = 5000"));
	snapshot_fini(&s);
}

/* "Below the default" is below this machine's (§1.4: half its established hash): a 6.18 host
 * with a 256k-entry ehash boots with 131,072, which is no lowering there. */
static void test_max_tw_buckets_machine_default(void **st)
{
	struct snapshot s;
	static struct doc_findings fs;
	const struct doc_finding *f;
	myth_base(&s);
	add_tw(&s, 10);
	kcounters_set(&s.counters, "TcpExt.TCPTimeWaitOverflow", 7);
	s.set.have_ehash = true;
	s.set.tcp_ehash_entries = -262144; /* a netns sharing the host's table reads it negative */
	s.set.tcp_max_tw_buckets = 131072;
	run(&s, &fs);
	assert_null(find(&fs, "myth-max-tw-buckets"));
	assert_non_null(find(&fs, "tw-bucket-overflow"));
	s.set.tcp_ehash_entries = 262144;
	run(&s, &fs);
	assert_null(find(&fs, "myth-max-tw-buckets"));
	/* below that machine's default: the finding names it */
	s.set.tcp_max_tw_buckets = 100000;
	run(&s, &fs);
	f = find(&fs, "myth-max-tw-buckets");
	assert_non_null(f);
	assert_non_null(strstr(f ? f->summary : "", "below this machine's default 131,072"));
	assert_true(has_ev(f, "this machine's default is 131,072"));
	/* the hash size unknown: the fixed stand-in of 262,144 */
	s.set.have_ehash = false;
	s.set.tcp_max_tw_buckets = 131072;
	run(&s, &fs);
	f = find(&fs, "myth-max-tw-buckets");
	assert_non_null(f);
	assert_non_null(strstr(f ? f->summary : "", "below the usual default 262,144"));
	snapshot_fini(&s);
}

static void test_recycle_config(void **st)
{
	struct snapshot s;
	static struct doc_findings fs;
	const struct doc_finding *f;
	myth_base(&s);
	run(&s, &fs);
	assert_null(find(&fs, "myth-recycle-config")); /* no line: nothing */
	feed(&s, "/etc/sysctl.d/99-old.conf", "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_recycle = 1\n");
	run(&s, &fs);
	f = find(&fs, "myth-recycle-config");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_WARNING);
	assert_true(has_ev(f, "/etc/sysctl.d/99-old.conf:2"));
	assert_true(has_ev(f, "does not exist"));
	assert_null(find(&fs, "tw-recycle-enabled"));
	/* could not be read: the era decides; 6.18 has no such key */
	snapshot_note_missing(&s, "net.ipv4.tcp_tw_recycle", "Permission denied");
	run(&s, &fs);
	assert_non_null(find(&fs, "myth-recycle-config"));
	/* 3.10 with the key at 1: the existing finding, not the myth */
	snprintf(s.release, sizeof(s.release), "3.10.0-1160.el7.x86_64");
	run(&s, &fs); /* unreadable on an era that has it: no claim */
	assert_null(find(&fs, "myth-recycle-config"));
	s.set.tcp_tw_recycle = 1;
	run(&s, &fs);
	assert_null(find(&fs, "myth-recycle-config"));
	assert_non_null(find(&fs, "tw-recycle-enabled"));
	s.set.tcp_tw_recycle = 0;
	run(&s, &fs);
	assert_null(find(&fs, "myth-recycle-config"));
	assert_null(find(&fs, "tw-recycle-enabled"));
	snapshot_fini(&s);
}

static void test_timestamps_off(void **st)
{
	struct snapshot s;
	static struct doc_findings fs;
	const struct doc_finding *f;
	myth_base(&s);
	s.set.tcp_timestamps = 0;
	run(&s, &fs);
	f = find(&fs, "timestamps-off");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_INFO); /* no TIME-WAIT, reuse not asked for */
	assert_true(has_ev(f, "net.ipv4.tcp_tw_reuse = 2"));
	s.set.tcp_tw_reuse = 1;
	run(&s, &fs);
	assert_int_equal(find(&fs, "timestamps-off")->sev, DOC_WARNING);
	s.set.tcp_tw_reuse = 2;
	add_tw(&s, 3);
	feed(&s, "/etc/sysctl.d/60-hardening.conf", "; CIS\n  net.ipv4.tcp_timestamps\t=\t0  \r\n");
	run(&s, &fs);
	f = find(&fs, "timestamps-off");
	assert_int_equal(f->sev, DOC_WARNING);
	assert_true(has_ev(f, "set in /etc/sysctl.d/60-hardening.conf:2: net.ipv4.tcp_timestamps = 0"));
	/* the reason is the model's */
	assert_true(has_ev(f, "no TIME-WAIT carries a timestamp"));
	s.set.tcp_timestamps = 1;
	run(&s, &fs);
	assert_null(find(&fs, "timestamps-off"));
	s.set.tcp_timestamps = 2;
	run(&s, &fs);
	assert_null(find(&fs, "timestamps-off"));
	snapshot_fini(&s);
}

static void test_conf_parser(void **st)
{
	struct snapshot s;
	const struct snap_conf_line *l;
	char longline[2000];
	snapshot_init(&s);
	feed(&s, "f",
	     "# net.ipv4.tcp_fin_timeout = 1\n"	       /* 1: comment */
	     "; net.ipv4.tcp_fin_timeout = 2\n"	       /* 2: comment */
	     "net.ipv4.tcp_fin_timeout\n"		       /* 3: no '=' */
	     "\t net.ipv4.tcp_fin_timeout =  15 \n"      /* 4 */
	     "net.ipv4.tcp_fin_timeout_x = 9\n"	       /* 5: another key */
	     "net.core.somaxconn = 4096\n"	       /* 6: not ours */
	     "-net/ipv4/ip_local_port_range = 1024 65000\n" /* 7 */
	     "net.ipv4.tcp_fin_timeout = 20"	       /* 8: no final newline */
	);
	assert_int_equal(s.nconf, 3);
	assert_string_equal(s.conf[0].key, "net.ipv4.tcp_fin_timeout");
	assert_int_equal(s.conf[0].line, 4);
	assert_string_equal(s.conf[0].value, "15");
	assert_string_equal(s.conf[1].key, "net.ipv4.ip_local_port_range");
	assert_true(s.conf[1].dash);
	assert_string_equal(s.conf[1].value, "1024 65000");
	l = snapshot_conf_last(&s, "net.ipv4.tcp_fin_timeout");
	assert_int_equal(l->line, 8);
	assert_string_equal(l->value, "20");
	assert_null(snapshot_conf_last(&s, "net.ipv4.tcp_timestamps"));
	/* a very long line is cut, not overflowed; the key still matches */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "net.ipv4.tcp_timestamps = ", 26);
	longline[sizeof(longline) - 1] = '\0';
	feed(&s, "g", longline);
	l = snapshot_conf_last(&s, "net.ipv4.tcp_timestamps");
	assert_non_null(l);
	assert_int_equal(strlen(l->value), sizeof(l->value) - 1);
	/* NUL inside, or over 1 MiB: refused, nothing kept */
	int n = s.nconf;
	assert_int_equal(snapshot_feed_conf(&s, "h", "net.ipv4.tcp_tw_reuse=1\0x", 25), -EPROTO);
	char *big = malloc(SNAP_CONF_FILE_MAX + 2);
	memset(big, '\n', SNAP_CONF_FILE_MAX + 1);
	big[SNAP_CONF_FILE_MAX + 1] = '\0';
	assert_int_equal(snapshot_feed_conf(&s, "i", big, SNAP_CONF_FILE_MAX + 1), -EPROTO);
	free(big);
	assert_int_equal(s.nconf, n);
	snapshot_fini(&s);
}

/* Past SNAP_MAX_CONF_LINES the superseded lines go first: the last line of each key stays. */
static void test_conf_bounded(void **st)
{
	struct snapshot s;
	char buf[64];
	snapshot_init(&s);
	feed(&s, "a", "net.ipv4.tcp_timestamps = 0\n");
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), "net.ipv4.tcp_fin_timeout = %d\n", i);
		feed(&s, "b", buf);
	}
	feed(&s, "c", "net.ipv4.tcp_max_tw_buckets = 7\n");
	assert_int_equal(s.nconf, SNAP_MAX_CONF_LINES);
	assert_string_equal(snapshot_conf_last(&s, "net.ipv4.tcp_fin_timeout")->value, "99");
	assert_string_equal(snapshot_conf_last(&s, "net.ipv4.tcp_timestamps")->value, "0");
	assert_string_equal(snapshot_conf_last(&s, "net.ipv4.tcp_max_tw_buckets")->value, "7");
	assert_true(s.conf_dropped);
	assert_int_equal(s.nmissing, 1);
	snapshot_fini(&s);
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A directory: *.conf by name, others ignored, a symlinked file read once under its target;
 * recorded to a capture and replayed to the same lines; a capture without them has none. */
static void test_read_dir_and_capture(void **st)
{
	char tmpl[] = "/tmp/twkit-myths-XXXXXX", d[600], p[700], t[700], cap[700], err[256];
	char *dir = mkdtemp(tmpl);
	struct snapshot s, r;
	struct cap_writer w;
	struct cap_reader rd;
	assert_non_null(dir);
	snprintf(d, sizeof(d), "%s/sysctl.d", dir);
	assert_int_equal(mkdir(d, 0700), 0);
	put(d, "20-b.conf", "net.ipv4.tcp_fin_timeout = 20\n");
	put(d, "10-a.conf", "net.ipv4.tcp_fin_timeout = 10\nnet.ipv4.tcp_tw_recycle = 1\n");
	put(d, "30-c.txt", "net.ipv4.tcp_fin_timeout = 30\n");
	put(dir, "sysctl.conf", "\nnet.ipv4.tcp_timestamps = 0\n");
	snprintf(p, sizeof(p), "%s/99-sysctl.conf", d);
	assert_int_equal(symlink("../sysctl.conf", p), 0);
	snprintf(cap, sizeof(cap), "%s/cap", dir);
	snprintf(t, sizeof(t), "%s\n%s/sysctl.conf\n%s/nonexistent", d, dir, dir);

	snapshot_init(&s);
	assert_int_equal(cap_writer_open(&w, cap), 0);
	assert_int_equal(snapshot_read_conf(&s, &w, t), 0);
	assert_int_equal(cap_writer_close(&w), 0);
	assert_int_equal(s.nconf, 4);
	assert_int_equal(s.conf[0].line, 1); /* 10-a.conf first */
	assert_string_equal(s.conf[1].key, "net.ipv4.tcp_tw_recycle");
	assert_string_equal(snapshot_conf_last(&s, "net.ipv4.tcp_fin_timeout")->value, "20");
	/* the symlink is read once, named by its target */
	const struct snap_conf_line *l = snapshot_conf_last(&s, "net.ipv4.tcp_timestamps");
	assert_int_equal(l->line, 2);
	assert_non_null(strstr(l->file, "/sysctl.conf"));
	assert_null(strstr(l->file, "99-sysctl"));
	/* an explicit path that is not there is noted */
	assert_int_equal(s.nmissing, 1);
	assert_non_null(strstr(s.missing[0], "nonexistent: No such file"));

	snapshot_init(&r);
	assert_int_equal(cap_reader_open(&rd, cap, err, sizeof(err)), 0);
	assert_int_equal(snapshot_from_capture(&r, &rd, err, sizeof(err)), 0);
	cap_reader_fini(&rd);
	assert_int_equal(r.nconf, s.nconf);
	for (int i = 0; i < s.nconf; i++) {
		assert_string_equal(r.conf[i].key, s.conf[i].key);
		assert_string_equal(r.conf[i].file, s.conf[i].file);
		assert_string_equal(r.conf[i].value, s.conf[i].value);
		assert_int_equal(r.conf[i].line, s.conf[i].line);
	}
	assert_int_equal(r.nmissing, 1);
	snapshot_fini(&r);
	snapshot_fini(&s);

	/* an old capture: no config sections, no lines */
	assert_int_equal(cap_writer_open(&w, cap), 0);
	cap_writer_add(&w, CAP_FILE, "net.ipv4.tcp_timestamps", "0\n", 2);
	assert_int_equal(cap_writer_close(&w), 0);
	snapshot_init(&r);
	assert_int_equal(cap_reader_open(&rd, cap, err, sizeof(err)), 0);
	assert_int_equal(snapshot_from_capture(&r, &rd, err, sizeof(err)), 0);
	cap_reader_fini(&rd);
	assert_int_equal(r.nconf, 0);
	assert_int_equal(r.set.tcp_timestamps, 0);
	snapshot_fini(&r);

	/* a file over 1 MiB is skipped and noted */
	char *big = malloc(SNAP_CONF_FILE_MAX + 2);
	memset(big, '#', SNAP_CONF_FILE_MAX + 1);
	big[SNAP_CONF_FILE_MAX + 1] = '\0';
	put(d, "40-big.conf", big);
	free(big);
	snapshot_init(&s);
	assert_int_equal(snapshot_read_conf(&s, NULL, d), 0);
	assert_int_equal(s.nmissing, 1);
	assert_non_null(strstr(s.missing[0], "larger than 1 MiB"));
	snapshot_fini(&s);

	char cmd[800];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Garbage in a capture's config section: parsed or refused, never read past. */
static void test_conf_garbage(void **st)
{
	struct snapshot s;
	unsigned seed = 12345;
	char buf[4096];
	snapshot_init(&s);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand_r(&seed) % (sizeof(buf) - 1));
		for (size_t i = 0; i < n; i++) {
			/* mostly the characters a config line is made of */
			static const char alpha[] = "net.ipv4/tcp_fin_timeout=- #;\n\r\t0123456789";
			buf[i] = rand_r(&seed) % 8 ? alpha[rand_r(&seed) % (sizeof(alpha) - 1)]
						   : (char)(rand_r(&seed) % 256);
		}
		buf[n] = '\0';
		snapshot_feed_file(&s, SNAP_CONF_PREFIX "/etc/sysctl.conf", buf, n);
		assert_true(s.nconf <= SNAP_MAX_CONF_LINES);
	}
	snapshot_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_twin),
		cmocka_unit_test(test_fin_timeout),
		cmocka_unit_test(test_max_tw_buckets),
		cmocka_unit_test(test_max_tw_buckets_machine_default),
		cmocka_unit_test(test_recycle_config),
		cmocka_unit_test(test_timestamps_off),
		cmocka_unit_test(test_conf_parser),
		cmocka_unit_test(test_conf_bounded),
		cmocka_unit_test(test_read_dir_and_capture),
		cmocka_unit_test(test_conf_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
