/*
 * builtin — the built-in scenarios, as INI text in the documented format (so
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
	  "as TIME-WAITs expire: the budget line below gives both numbers. Before that, "
	  "connect() itself gets dear: each call walks the ports held so far, and at this rate "
	  "that needs more than one core, so connects queue and the first failure comes later "
	  "than the port budget alone says (the price lines below). Fixes, each a "
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
	{ "nat-gw-gcp",
	  "GCP Cloud NAT's 64 ports per VM and 120 s TIME_WAIT: above 0.53 new connections/s per VM",
	  "[sim]\nname = nat-gw-gcp\nduration = 300s\nkernel = 6.1\n\n"
	  "[client vms]\ncount = 4\nrate = 1/s\ncloses = client\nvia = cloud-nat\n\n"
	  "[nat cloud-nat]\nprofile = gcp-cloud-nat\nvia = api\n\n"
	  "[server api]\n",
	  "Four VMs reach one API through GCP Cloud NAT with static port allocation and the old "
	  "default of 64 ports per VM (min_ports_per_vm). A VM's 64 ports are reused toward "
	  "every other destination, but toward one destination (IP, port, protocol) each "
	  "connection needs its own, and after the close the gateway keeps the port for its TCP "
	  "TIME_WAIT timeout, 120 s by default on gateways made before the 2026 change to 30 s "
	  "(not the kernel's 60 s). So a VM sustains 64 / 120 s = 0.53 new connections/s to the "
	  "API; at 1/s its ports are all held after 64 s, and the gateway drops new SYNs: the "
	  "VM's kernel retransmits them (1, 3, 7, ... s) and connect() ends in ETIMEDOUT. The "
	  "VM's own port budget (28,232) is nowhere near. Fixes, each a --set away: "
	  "cloud-nat.ports_per_host=256 (more ports per VM), "
	  "cloud-nat.tcp_time_wait_timeout=30s (the newer default), vms.rate=0.1/s with "
	  "vms.requests=10 (pooling: the same requests over fewer connections), api.ips=2 (a "
	  "second destination address: each VM's 64 ports again)." },
	{ "nat-gw-aws",
	  "AWS NAT gateway: 55,000 simultaneous connections per destination per address",
	  "[sim]\nname = nat-gw-aws\nduration = 300s\nkernel = 6.1\n\n"
	  "[client fleet]\ncount = 10\nrate = 150/s\nrequests = 6\ncloses = client\n"
	  "via = natgw\n\n"
	  "[nat natgw]\nprofile = aws-nat-gateway\nvia = api\n\n"
	  "[server api]\nservice_time = 10s\n",
	  "Ten hosts open 1,500 connections/s in all to one API through an AWS NAT gateway; each "
	  "connection carries six 10 s requests, so it lives about 60 s and 90,000 would be open "
	  "at once. AWS documents 55,000 simultaneous connections to each destination (IP, port, "
	  "protocol) per gateway address: the budget is 55,000 / 60 s = 917 new connections/s. "
	  "After about 37 s the gateway has no port left toward the API (its ErrorPortAllocation "
	  "metric): new SYNs are dropped, the hosts retransmit them, connects take seconds, and "
	  "once the backlog outgrows the SYN schedule they fail with ETIMEDOUT. "
	  "Fixes: natgw.ips=2 (a secondary address: up to 8, each another 55,000), api.ips=2 "
	  "(two destinations). AWS does not publish how long a port stays held after a close; "
	  "the profile assumes none (try natgw.tcp_time_wait_timeout=60s)." },
	{ "nat-gw-azure-lb",
	  "Azure load balancer SNAT: the default allocation gives 512 ports per node in a pool of 100",
	  "[sim]\nname = nat-gw-azure-lb\nduration = 240s\nkernel = 6.1\n\n"
	  "[client nodes]\ncount = 2\nrate = 10/s\ncloses = client\nvia = lb\n\n"
	  "[nat lb]\nprofile = azure-lb-snat\nnodes = 100\nvia = api\n\n"
	  "[server api]\nservice_time = 60s\n",
	  "Two busy nodes of a 100-node backend pool reach an API through the load balancer's "
	  "outbound SNAT with default port allocation: the table gives a pool of 51-100 "
	  "instances 512 ports per instance per frontend address. Each node opens 10 "
	  "connections/s that last 60 s, so it needs about 600 ports toward the API, and after "
	  "51 s its SNAT ports are all in use: SYNs are dropped, retransmitted, and end in "
	  "ETIMEDOUT. Fixes: lb.ips=2 (a second frontend address: 1,024 ports, the table's "
	  "cap), lb.ports_per_host=640 (outbound rules: addresses x 64,000 / nodes), lb.nodes=50 "
	  "(a smaller pool: 1,024)." },
	{ "nat-gw-idle",
	  "Azure NAT gateway's 4 min idle timeout cuts pooled connections idle for 5 min",
	  "[sim]\nname = nat-gw-idle\nduration = 600s\nkernel = 6.1\n\n"
	  "[client app]\nrate = 20/s\nrequests = 10\nidle = 5m\ncloses = client\n"
	  "via = natgw\n\n"
	  "[nat natgw]\nprofile = azure-nat-gateway\nvia = api\n\n"
	  "[server api]\n",
	  "The fix for churn is pooling, and pooling has its own trap: a connection pool keeps "
	  "each connection open after its requests, here idle for 5 minutes before it is used or "
	  "closed. An Azure NAT gateway removes a flow silent for its idle timeout (4 minutes by "
	  "default) and answers the next segment on it with a TCP reset: every connection fails "
	  "on its next use with ECONNRESET, and neither end gets to close it. AWS does the same "
	  "after 350 s; GCP drops such segments silently after 1,200 s (ETIMEDOUT instead). "
	  "Fix: app.idle=3m (a pool idle timeout, or TCP keepalive, below the gateway's)." },
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
