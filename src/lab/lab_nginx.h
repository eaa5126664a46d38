/*
 * lab_nginx — nginx as the lab's L7 balancer (issue 5: "nginx as a reverse proxy when
 * installed"). lab_nginx_conf() renders a config from the same struct lab_relay_cfg the twkit
 * relay takes: one process (`daemon off; master_process off`), so the PID lab forks is the
 * whole of nginx and is ended by that PID; pid file, error log and temp paths all inside a
 * private directory that lab makes per run with mkdtemp (`<tmp>/twk-lab-<pid>-nginx.XXXXXX`)
 * and removes after.
 * The balancer's counters come from that error log (every failed upstream connect() is logged
 * with its errno) and from the namespace's Tcp.ActiveOpens.
 */
#ifndef TWKIT_LAB_LAB_NGINX_H
#define TWKIT_LAB_LAB_NGINX_H

#include <stddef.h>

#include "lab/lab_relay.h"

#define LAB_NGINX_BIN "/usr/sbin/nginx" /* Debian's nginx / nginx-light */
#define LAB_NGINX_DIR_LEN 256

/* Render the config for cfg with every path under dir. Pure. Length, or -ENOSPC. */
int lab_nginx_conf(const struct lab_relay_cfg *cfg, const char *dir, char *buf, size_t len);

/*
 * Make the run's private directory (mode 0700, named after pid, under $TMPDIR or /tmp) into
 * dir and write nginx.conf there. 0 or -errno; on error nothing is left behind.
 */
int lab_nginx_prepare(const struct lab_relay_cfg *cfg, int pid, char *dir, size_t dirlen);

/* Remove what lab_nginx_prepare and nginx made in dir (only our own file names), then dir.
 * Refuses (-EINVAL) a path that is not of the form lab_nginx_prepare makes, and (-EPERM) one
 * that is not a private directory of ours (a symlink, another owner, group/other bits).
 * A missing dir is 0. 0 or -errno. */
int lab_nginx_remove(const char *dir);

/*
 * Count the failed upstream connects in log text (nginx's "connect() to ... failed (E: ...)"
 * lines): st->backend_fail gets all of them, st->eaddrnotavail those with EADDRNOTAVAIL.
 * Pure; other fields untouched.
 */
void lab_nginx_log_count(const char *log, size_t len, struct lab_relay_stats *st);

/* The same for dir's error.log. 0 or -errno (a log not yet created counts as empty). */
int lab_nginx_read_stats(const char *dir, struct lab_relay_stats *st);

#endif
