/*
 * lab_child — the processes of a lab run: forked by lab, entered into their namespace with
 * setns, dying with it (PR_SET_PDEATHSIG), only ever signalled by their own PID: `twkit bench
 * serve` and `bench run`, twkit's relay, nginx, and `twkit doctor --json` for --doctor; their
 * output read without blocking the run loop.
 */
#ifndef TWKIT_LAB_LAB_CHILD_H
#define TWKIT_LAB_LAB_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "lab/lab_doctor.h"
#include "lab/lab_relay.h"

#define LAB_NCHILDREN 3
enum { LAB_CH_SERVER, LAB_CH_RELAY, LAB_CH_CLIENT };

struct lab_children {
	pid_t pid[LAB_NCHILDREN];  /* server, relay, client; 0 = none */
	int fd[LAB_NCHILDREN];     /* their stdout pipe, -1 = none */
	char *out;                /* the client's stdout */
	size_t out_len, out_cap;
	char line[256];           /* the relay's partial line */
	size_t line_len;
};

enum { CH_SERVER, CH_RELAY, CH_CLIENT };

/* Fork and exec `exe argv...` inside ns (stdin /dev/null); its stdout comes back through
 * *out_fd (non-blocking) when out_fd is not NULL, else goes to /dev/null. 0 or -errno. */
int lab_child_exec(const char *ns, const char *exe, const char *const *argv, pid_t *pid,
		   int *out_fd);
/* Fork twkit's relay inside ns; its report lines come back through *out_fd. 0 or -errno. */
int lab_child_relay(const char *ns, const struct lab_relay_cfg *cfg, pid_t *pid, int *out_fd);
/* Whether child pid has exited (reaped here); *status gets its wait status. */
bool lab_child_gone(pid_t pid, int *status);
/* The same, and *ru gets the child's own resource use (wait4: its ru_stime is the kernel CPU
 * the process took, every thread of it). */
bool lab_child_gone_ru(pid_t pid, int *status, struct rusage *ru);
/* SIGTERM each recorded child by PID, wait, SIGKILL the ones still there, reap all. */
void lab_children_stop(struct lab_children *ch);
/* Append what the client printed so far to ch->out (bounded). */
void lab_child_read_client(struct lab_children *ch);
/* The next complete report line of the twkit relay, parsed; false when none is waiting. */
bool lab_child_relay_next(struct lab_children *ch, double *t, struct lab_relay_stats *st);
/* Wait until ns has n listeners on [lo, hi] (or child pid dies). 0, -ETIMEDOUT, -ECHILD. */
int lab_child_wait_listen(const char *ns, uint16_t lo, uint16_t hi, uint32_t n, pid_t pid);
/* `exe doctor --json` inside ns, its findings into *out (at_s set). Never fails the run: a
 * doctor that cannot run leaves out->have false with the reason. */
void lab_child_doctor(const char *exe, const char *ns, double at_s, struct lab_doc_sample *out);

#endif
