/*
 * doc_fixture — crafted snapshots for doctor's unit tests (test_doctor.c, test_myths.c): an
 * IPv4-mapped address, one socket, a healthy 6.18 host with the defaults, a finding by id.
 * Header-only (static inline): each test file takes what it uses.
 */
#ifndef TWKIT_TESTS_DOC_FIXTURE_H
#define TWKIT_TESTS_DOC_FIXTURE_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "doctor/findings.h"
#include "kernel/snapshot.h"

static inline void v4(uint8_t out[16], const char *ip)
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	inet_pton(AF_INET, ip, out + 12);
}

/* One socket: state (kernel TCP state number), tw (a TIME-WAIT minisocket), addresses and
 * ports, milliseconds left on its timer, timestamps (0 unknown, 1 off, 2 on). */
static inline void add(struct snapshot *s, int state, int tw, const char *l, int lp,
		       const char *r, int rp, uint32_t expires, int ts)
{
	struct kdiag_sock k;
	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.state = (uint8_t)state;
	k.tw = (uint8_t)tw;
	k.ts = (uint8_t)ts;
	k.lport = (uint16_t)lp;
	k.rport = (uint16_t)rp;
	k.expires_ms = expires;
	k.uid = tw ? 0 : 1000;
	v4(k.laddr, l);
	v4(k.raddr, r);
	if (s->nsocks == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->socks = realloc(s->socks, s->cap * sizeof(*s->socks));
		if (!s->socks)
			abort();
	}
	s->socks[s->nsocks++] = k;
}

/* A host on 6.18 with the defaults, no sockets. */
static inline void base(struct snapshot *s)
{
	snapshot_init(s);
	snprintf(s->release, sizeof(s->release), "6.18.44-test");
	s->collected_ms = 1700000000000LL;
	s->set.tcp_timestamps = 1;
	s->set.tcp_tw_reuse = 2;
	s->set.tcp_tw_reuse_delay = 1000;
	s->set.port_lo = 32768;
	s->set.port_hi = 60999;
	s->set.tcp_max_tw_buckets = 262144;
	s->set.tcp_fin_timeout = 60;
	s->set.tcp_syn_retries = 6;
	s->set.file_max = 1000000;
	s->set.file_nr = 2000;
	s->set.nofile_cur = 1024;
	s->set.nofile_max = 4096;
	s->set.have_reserved = true;
	tw_portset_clear(&s->set.reserved);
}

static inline const struct doc_finding *find(const struct doc_findings *fs, const char *id)
{
	for (int i = 0; i < fs->n; i++)
		if (!strcmp(fs->f[i].id, id))
			return &fs->f[i];
	return NULL;
}

#endif
