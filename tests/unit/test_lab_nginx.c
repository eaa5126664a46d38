/*
 * test_lab_nginx — the nginx directory of a lab run is made by mkdtemp and removed only when
 * it is a private directory of ours: a link planted at the old predictable name, or in place
 * of the run's directory, never leads lab to write or delete anything elsewhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/lab_nginx.h"

static char top[256];

static void make_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int exists(const char *dir, const char *name)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

static void test_planted_links(void **st)
{
	char victim[300], planted[300], dir[LAB_NGINX_DIR_LEN], fake[300];
	struct lab_relay_cfg cfg;
	struct stat sb;
	int pid = 424242;

	snprintf(top, sizeof(top), "%s/twk-nginx-test-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(top));
	/* someone else's directory, with files named as lab's */
	snprintf(victim, sizeof(victim), "%s/victim", top);
	assert_int_equal(mkdir(victim, 0755), 0);
	make_file(victim, "nginx.conf", "precious\n");
	make_file(victim, "error.log", "precious\n");
	/* a link at the name lab used to use, pointing at it */
	snprintf(planted, sizeof(planted), "%s/twk-lab-%d-nginx", top, pid);
	assert_int_equal(symlink(victim, planted), 0);

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.listen, sizeof(cfg.listen), "127.0.0.1");
	cfg.listen_port = 8000;
	snprintf(cfg.backend, sizeof(cfg.backend), "127.0.0.2");
	cfg.backend_port = 8000;
	cfg.backend_ports = 1;
	assert_int_equal(setenv("TMPDIR", top, 1), 0);
	assert_int_equal(lab_nginx_prepare(&cfg, pid, dir, sizeof(dir)), 0);
	/* a fresh private directory beside the link, not the link */
	assert_int_equal(strncmp(dir, planted, strlen(planted)), 0);
	assert_true(strlen(dir) == strlen(planted) + 7);
	assert_int_equal(lstat(dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_true(exists(dir, "nginx.conf"));
	assert_int_equal(lab_nginx_remove(dir), 0);
	assert_false(exists(top, strrchr(dir, '/') + 1));
	/* the victim is untouched */
	assert_true(exists(victim, "nginx.conf") && exists(victim, "error.log"));

	/* a link of mkdtemp's form (planted after a run, for the next one's cleanup) */
	snprintf(fake, sizeof(fake), "%s/twk-lab-%d-nginx.Ab12Cd", top, pid);
	assert_int_equal(symlink(victim, fake), 0);
	assert_int_not_equal(lab_nginx_remove(fake), 0);
	assert_true(exists(victim, "nginx.conf") && exists(victim, "error.log"));
	assert_true(exists(top, strrchr(fake, '/') + 1));
	/* a directory of that form that others may write into is not ours either */
	unlink(fake);
	assert_int_equal(mkdir(fake, 0777), 0);
	assert_int_equal(chmod(fake, 0777), 0);
	make_file(fake, "nginx.conf", "theirs\n");
	assert_int_equal(lab_nginx_remove(fake), -EPERM);
	assert_true(exists(fake, "nginx.conf"));
	/* a missing one is nothing to do */
	unlink(planted);
	assert_int_equal(lab_nginx_remove(planted), -EINVAL);

	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
	(void)st;
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_planted_links) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
