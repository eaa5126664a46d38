/*
 * builtin — the eight built-in scenarios, as INI text in the documented format (so
 * `twkit sim --show NAME` prints a file the user can edit), with what each shows and why.
 */
#include <string.h>

#include "sim/sim.h"

struct builtin {
	const char *name, *summary, *text, *explain;
};

static const struct builtin builtins[] = {
	{ "stress-client",
	  "a client closes first above its port budget toward one destination",
	  "[sim]\nname = stress-client\nduration = 90s\nkernel = 5.4\n\n"
	  "[client loadgen]\nrate = 1000/s\ncloses = client\nvia = web\n\n"
	  "[server web]\n",
	  "The load generator opens 1000 connections/s to one IP:port and closes each one "
	  "first, so every connection leaves a TIME-WAIT on the client for 60 s "
	  "(TCP_TIMEWAIT_LEN, §1.2). Each TIME-WAIT holds its 4-tuple, and connect() can only "
	  "vary the source port: the budget is ip_local_port_range, 28,232 ports per "
	  "destination (§3.3). Once every port is held connect() fails with EADDRNOTAVAIL "
	  "(after scanning both parities, §3.2); from then on only as many connections succeed "
	  "as TIME-WAITs expire: the budget line below gives both numbers. Fixes, each a "
	  "--set away: client.closes=server (the server keeps the TIME-WAIT; its SYN check "
	  "accepts the reused 4-tuple, §5.1), client.linger0=yes (RST, no TIME-WAIT, §7), "
	  "client.tw_reuse=1 (timestamps on both ends: takeover after 1 s, §2.2), "
	  "client.ips=4 (four budgets)." },
	{ "lb-quadruplets",
	  "an L7 balancer with one IP in front of a web server: its ports per TIME-WAIT length",
	  "[sim]\nname = lb-quadruplets\nduration = 180s\nkernel = 5.4\n\n"
	  "[client users]\ncount = 100\nrate = 8/s\ncloses = client\nvia = balancer\n\n"
	  "[l7lb balancer]\nips = 1\ncloses = client\nvia = web\n\n"
	  "[server web]\nports = 1\n",
	  "Users send 800 requests/s to an L7 balancer that opens a new connection to the web "
	  "server for each and closes it first (no keep-alive). Every backend connection shares "
	  "(balancer IP, server IP, server port), so only the balancer's source port varies: "
	  "28,232 ports, each held 60 s by a TIME-WAIT on the balancer. The balancer cannot "
	  "exceed its ports per TIME-WAIT length per balancer IP (the budget line below; the "
	  "article's 30,000 ports give 500/s); above that it gets EADDRNOTAVAIL. More quadruplets raise "
	  "the ceiling in proportion: web.ports=2 or balancer.ips=2 doubles it. If the server "
	  "closed first instead (balancer.closes=server) the TIME-WAITs sit on the server, whose "
	  "SYN check accepts a reused 4-tuple with a newer timestamp (§5.1): no ceiling." },
	{ "nat-recycle",
	  "tcp_tw_recycle=1 on a 3.10 server, clients behind one NAT: SYNs dropped (PAWSPassive)",
	  "[sim]\nname = nat-recycle\nduration = 150s\nkernel = 3.10\n\n"
	  "[client phones]\ncount = 20\nkernel = 4.4\nrate = 2/s\narrival = poisson\n"
	  "closes = server\nrtt = 30ms\nvia = carrier-nat\n\n"
	  "[nat carrier-nat]\nips = 1\nmapping = preserve\nvia = web\n\n"
	  "[server web]\ntw_recycle = 1\n",
	  "Twenty clients share one public IP through a NAT; each has its own timestamp clock "
	  "(unrelated boot times, §4.4). The 3.10 web server has tcp_tw_recycle=1 and closes "
	  "each connection first, so each close enters TIME-WAIT and remembers the client's "
	  "TSval in the per-peer cache, keyed by IP only (§4.1): the NAT's address. A SYN from "
	  "that address whose TSval is more than 1 behind the cached one within 60 s is dropped "
	  "silently and counted as PAWSPassive (§4.3). Clients whose clocks are behind the "
	  "latest one retry at 1, 3, 7, 15, 31, 63 s and fail with ETIMEDOUT at 127 s (§10). "
	  "With web.tw_recycle=0 nothing is dropped." },
	{ "random-offsets",
	  "a 4.10 client to a tw_recycle server, no NAT: per-connection TS offsets get it dropped",
	  "[sim]\nname = random-offsets\nduration = 120s\nkernel = 3.10\n\n"
	  "[client app]\nkernel = 4.10\nrate = 20/s\ncloses = server\nvia = web\n\n"
	  "[server web]\ntw_recycle = 1\n",
	  "Linux 4.10 added a random offset to TCP timestamps, hashed over the 4-tuple (§4.5, "
	  "§6): each new connection (new source port) starts its TSvals at an unrelated value. "
	  "The 3.10 server with tcp_tw_recycle=1 closes each connection, remembers the client's "
	  "TSval in its per-IP cache (§4.1), and then drops any SYN from that IP whose TSval is "
	  "more than 1 behind (§4.3): about half of them, though there is a single client and no "
	  "NAT. 4.11 made the offset per host pair (client.kernel=4.11): TSvals toward the server "
	  "are monotonic again and nothing is dropped. 4.12 removed tcp_tw_recycle." },
	{ "slb-strips-ts",
	  "a 3.10 client with recycle+reuse behind an L7 balancer without timestamps: 60 s TIME-WAITs",
	  "[sim]\nname = slb-strips-ts\nduration = 120s\nkernel = 3.10\n\n"
	  "[client app]\nrate = 70/s\ncloses = client\ntw_recycle = 1\ntw_reuse = 1\n"
	  "timestamps = 1\nvia = slb\n\n"
	  "[l7lb slb]\ntimestamps = 0\ncloses = client\nvia = web\n\n"
	  "[server web]\n",
	  "The client runs 3.10 with tcp_tw_recycle=1, tcp_tw_reuse=1, tcp_timestamps=1 and "
	  "closes first. Talking straight to the server (client.via=web) timestamps are "
	  "negotiated, so tcp_time_wait() remembers the peer stamp and a TIME-WAIT lives only "
	  "3.5 x RTO = 0.7 s (§1.2): a few dozen exist at a time. The L7 balancer does not do "
	  "timestamps (the SLB in the article erased the option), so ts_recent_stamp is 0, "
	  "recycle_ok is false and each TIME-WAIT lives the full 60 s (§6): about rate x 60 = "
	  "4,200 pile up, the 'over 4,000' of the article. tcp_tw_reuse cannot help either: it "
	  "also needs timestamps (§2.2)." },
	{ "tw-reuse-client",
	  "tcp_tw_reuse=1 with timestamps: no failures far above the port budget, per era",
	  "[sim]\nname = tw-reuse-client\nduration = 60s\nkernel = 6.14\n\n"
	  "[client loadgen]\nrate = 2000/s\ncloses = client\ntw_reuse = 1\nvia = web\n\n"
	  "[server web]\n",
	  "The client closes first at 2000 connections/s, about four times what 28,232 ports "
	  "allow with 60 s TIME-WAITs (the budget line below). With tcp_tw_reuse=1 and timestamps on both ends, "
	  "connect() takes over a TIME-WAIT 4-tuple once it is old enough (§2.2): more than 1 s "
	  "on a seconds clock before 4.18 (--kernel 3.10), more than 0 s from 4.19 (--kernel "
	  "4.19), and tcp_tw_reuse_delay (1000 ms by default) from 6.14. The takeover counts "
	  "TWRecycled and starts the new connection's ISN above the old sequence space. No "
	  "connect() fails; without reuse (client.tw_reuse=0) EADDRNOTAVAIL starts after 14 s." },
	{ "tw-memory",
	  "10k new connections/s closed by the server: about 600k TIME-WAITs and their memory",
	  "[sim]\nname = tw-memory\nduration = 90s\nkernel = 6.1\n\n"
	  "[client fleet]\ncount = 50\nkernel = 5.4\nrate = 200/s\ncloses = server\nvia = web\n\n"
	  "[server web]\nmax_tw_buckets = 2000000\n",
	  "Fifty clients open 10,000 connections/s in total to a server that closes first. "
	  "Each leaves a TIME-WAIT on the server for 60 s: about 600,000 at steady state. A "
	  "TIME-WAIT is a small tw_sock_TCP object (about 264 bytes) plus a share of a bind "
	  "bucket (§1.5), so 600k cost about 190 MiB of kernel memory, not the 2 KB of a full "
	  "socket each: large but rarely the real problem. tcp_max_tw_buckets is set high here "
	  "(a server with a big ehash); at the usual 262,144 see bucket-overflow. The clients run "
	  "5.4, whose port search walks the range in order (§3.2 C), so a client comes back to "
	  "a port only after 141 s; 5.15+ clients jump around the range (§3.2 E) and some SYNs "
	  "land on a server TIME-WAIT, which accepts them by timestamp (§5.1) and so replaces "
	  "it: try --set fleet.kernel=6.1." },
	{ "bucket-overflow",
	  "tcp_max_tw_buckets below rate x 60: TCPTimeWaitOverflow rises, TIME-WAIT flat",
	  "[sim]\nname = bucket-overflow\nduration = 60s\nkernel = 5.15\n\n"
	  "[client fleet]\ncount = 10\nrate = 50/s\ncloses = server\nvia = web\n\n"
	  "[server web]\nmax_tw_buckets = 5000\n",
	  "The server closes 500 connections/s, which would need 30,000 TIME-WAITs, but "
	  "tcp_max_tw_buckets is 5000. Once 5000 exist, inet_twsk_alloc fails: the socket is "
	  "destroyed at once without TIME-WAIT and TCPTimeWaitOverflow is incremented (§1.4); "
	  "the count stays flat at the limit. Connections still work; the protection TIME-WAIT "
	  "gives against old duplicates is what is lost." },
};

#define NBUILTIN ((int)(sizeof(builtins) / sizeof(builtins[0])))

static const struct builtin *find(const char *name)
{
	for (int i = 0; i < NBUILTIN; i++)
		if (name && !strcmp(builtins[i].name, name))
			return &builtins[i];
	return NULL;
}

int sim_builtin_count(void)
{
	return NBUILTIN;
}

const char *sim_builtin_name(int i)
{
	return i >= 0 && i < NBUILTIN ? builtins[i].name : NULL;
}

const char *sim_builtin_summary(int i)
{
	return i >= 0 && i < NBUILTIN ? builtins[i].summary : NULL;
}

const char *sim_builtin_text(const char *name)
{
	const struct builtin *b = find(name);
	return b ? b->text : NULL;
}

const char *sim_builtin_explain(const char *name)
{
	const struct builtin *b = find(name);
	return b ? b->explain : NULL;
}
