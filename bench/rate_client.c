/* SPDX-License-Identifier: GPL-2.0-only */
/* A constant-rate HTTP/1.1 load client for bench/overhead: sends GET /
 * at a fixed offered rate over keep-alive connections to 127.0.0.1 and
 * prints one JSON line of what it saw. A fixed rate below saturation makes
 * the server's CPU time per request the measure of what an attached tool
 * costs it, whatever the load generator's own speed (wrk measures how fast
 * it can drive the server instead, which a noisy 2-CPU VM blurs).
 *
 *   rate_client PORT RATE SECONDS [CONNECTIONS]
 *
 * Loopback only, bounded in count and time: it stops by itself. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define RESP_MAX 4096
#define MAX_LAT 1000000  /* latency samples kept */

static const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

struct conn {
	int fd;
	bool busy;
	uint64_t sent_at;
	size_t got;
	char buf[RESP_MAX];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A whole response is in: headers, then Content-Length bytes of body. */
static bool response_done(const struct conn *c)
{
	const char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
	const char *cl;
	long len = 0;

	if (!end)
		return false;
	cl = memmem(c->buf, (size_t)(end - c->buf), "Content-Length:", 15);
	if (cl)
		len = strtol(cl + 15, NULL, 10);
	return (size_t)(end + 4 - c->buf) + (size_t)len <= c->got;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

struct stats {
	uint64_t sent, done, errors, late;
	uint64_t *lat;
	size_t nlat;
};

static void on_readable(struct conn *c, struct stats *st)
{
	ssize_t n = read(c->fd, c->buf + c->got, sizeof(c->buf) - c->got);

	if (n <= 0) {
		st->errors++;
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->got += (size_t)n;
	if (!response_done(c)) {
		if (c->got == sizeof(c->buf))
			c->got = 0, st->errors++; /* not a response we understand */
		return;
	}
	if (st->nlat < MAX_LAT)
		st->lat[st->nlat++] = now_ns() - c->sent_at;
	st->done++;
	c->busy = false;
	c->got = 0;
}

/* The next idle connection, reconnecting one that broke. */
static struct conn *idle_conn(struct conn *cs, int n, int ep, int port)
{
	for (int i = 0; i < n; i++) {
		struct conn *c = &cs[i];

		if (c->fd < 0) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

			c->fd = connect_to(port);
			if (c->fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
				continue;
			c->busy = false;
			c->got = 0;
		}
		if (!c->busy)
			return c;
	}
	return NULL;
}

static void print_stats(struct stats *st, double seconds, int rate)
{
	qsort(st->lat, st->nlat, sizeof(*st->lat), cmp_u64);
	printf("{\"rate\":%d,\"seconds\":%.3f,\"sent\":%llu,\"done\":%llu,\"errors\":%llu,"
	       "\"late\":%llu,\"p50_us\":%.1f,\"p99_us\":%.1f}\n", rate, seconds,
	       (unsigned long long)st->sent, (unsigned long long)st->done,
	       (unsigned long long)st->errors, (unsigned long long)st->late,
	       st->nlat ? st->lat[st->nlat / 2] / 1e3 : 0.0,
	       st->nlat ? st->lat[st->nlat * 99 / 100] / 1e3 : 0.0);
}

int main(int argc, char **argv)
{
	struct conn cs[MAX_CONNS];
	struct stats st = { 0 };
	int port, rate, nconn = argc > 4 ? atoi(argv[4]) : 16, ep;
	double seconds;
	uint64_t start, end, next, interval;

	if (argc < 4 || (port = atoi(argv[1])) <= 0 || (rate = atoi(argv[2])) <= 0 ||
	    (seconds = atof(argv[3])) <= 0 || seconds > 3600 || nconn < 1 || nconn > MAX_CONNS) {
		fprintf(stderr, "usage: rate_client PORT RATE SECONDS [CONNECTIONS<=%d]\n", MAX_CONNS);
		return 2;
	}
	st.lat = malloc(MAX_LAT * sizeof(*st.lat));
	ep = epoll_create1(0);
	if (!st.lat || ep < 0)
		return 1;
	for (int i = 0; i < nconn; i++)
		cs[i] = (struct conn){ .fd = -1 };
	interval = 1000000000ULL / (uint64_t)rate;
	start = next = now_ns();
	end = start + (uint64_t)(seconds * 1e9);
	for (uint64_t t = start; t < end; t = now_ns()) {
		struct epoll_event evs[MAX_CONNS];
		/* sleep to the next send time exactly (ns timeout): a client
		 * that spins would take CPU from the server's sibling thread */
		uint64_t wait = next > t ? next - t : 0;
		struct timespec ts = { (time_t)(wait / 1000000000ULL), (long)(wait % 1000000000ULL) };
		int n = epoll_pwait2(ep, evs, MAX_CONNS, &ts, NULL);

		for (int i = 0; i < n; i++)
			on_readable(evs[i].data.ptr, &st);
		/* every request due by now goes out; one with no idle
		 * connection is counted late and dropped (open loop) */
		for (t = now_ns(); next <= t && next < end; next += interval) {
			struct conn *c = idle_conn(cs, nconn, ep, port);

			if (!c || write(c->fd, request, sizeof(request) - 1) != (ssize_t)sizeof(request) - 1) {
				st.late++;
				continue;
			}
			c->busy = true;
			c->sent_at = next;
			st.sent++;
		}
	}
	print_stats(&st, (double)(now_ns() - start) / 1e9, rate);
	return 0;
}
