/* SPDX-License-Identifier: GPL-2.0-only */
/* The metrics endpoint's HTTP request parser on hostile heads, its address
 * syntax, and the exposition's format (label escaping, cumulative buckets). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"
#include "metrics.h"
#include "metrics_text.h"
#include "unit.h"

static long parse(const char *s, struct http_request *r)
{
	return http_parse(s, strlen(s), r);
}

static void test_good(void)
{
	struct http_request r;
	const char *get = "GET /metrics?x=1 HTTP/1.1\r\nHost: a:9\r\nAccept: */*\r\n\r\nrest";

	CHECK_EQ_INT(parse(get, &r), (long)strlen(get) - 4);
	CHECK_EQ_STR(r.method, "GET");
	CHECK_EQ_STR(r.path, "/metrics");
	CHECK_EQ_INT(r.minor, 1);
	CHECK(parse("\r\nHEAD / HTTP/1.0\n\n", &r) > 0);      /* HTTP/1.0: no Host needed; bare LF */
	CHECK_EQ_STR(r.method, "HEAD");
	CHECK(parse("GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &r) > 0);
}

static void test_incomplete(void)
{
	struct http_request r;

	CHECK_EQ_INT(parse("", &r), 0);
	CHECK_EQ_INT(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n", &r), 0);
	CHECK_EQ_INT(parse("GET /met", &r), 0);
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"GET /metrics HTTP/1.1\r\n\r\n",                      /* no Host */
		"GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", /* two */
		"GET  /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET metrics HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://x/metrics HTTP/1.1\r\nHost: a\r\n\r\n",
		"G(T /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /metrics HTTP/1.1 \r\nHost: a\r\n\r\n",
		"GET /metrics HTTX/1.1\r\nHost: a\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: a\rb\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET /met\x01rics HTTP/1.1\r\nHost: a\r\n\r\n",
		"garbage\r\n\r\n",
	};
	struct http_request r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long rc = parse(bad[i], &r);

		if (rc != -400)
			printf("    case %zu: %ld\n", i, rc);
		CHECK_EQ_INT(rc, -400);
	}
	CHECK_EQ_INT(parse("GET /metrics HTTP/2.0\r\nHost: a\r\n\r\n", &r), -505);
	CHECK_EQ_INT(parse("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r), -501);
	CHECK_EQ_INT(parse("POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", &r), -501);
	CHECK_EQ_INT(parse("GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 5\r\n\r\n", &r), -501);
}

static void test_too_large(void)
{
	struct http_request r;
	size_t n = HTTP_HEAD_MAX + 100;
	char *big = malloc(n + 1);

	memset(big, 'a', n);
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	big[n] = 0;
	CHECK_EQ_INT(http_parse(big, n, &r), -431);
	CHECK_EQ_INT(http_parse(big, HTTP_HEAD_MAX - 1, &r), 0);
	free(big);
}

static void test_addr(void)
{
	struct sockaddr_storage ss;
	char err[160];

	CHECK_EQ_INT(metrics_parse_addr("9464", &ss, err, sizeof(err)), 0);
	CHECK_EQ_INT(ss.ss_family, AF_INET);
	CHECK_EQ_INT(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(0x7f000001));
	CHECK_EQ_INT(metrics_parse_addr("0.0.0.0:1", &ss, err, sizeof(err)), 0);
	CHECK_EQ_INT(metrics_parse_addr("[::1]:9464", &ss, err, sizeof(err)), 0);
	CHECK_EQ_INT(ss.ss_family, AF_INET6);
	CHECK_EQ_INT(metrics_parse_addr("localhost:80", &ss, err, sizeof(err)), 0);
	CHECK_EQ_INT(metrics_parse_addr("example.com:80", &ss, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(metrics_parse_addr("70000", &ss, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(metrics_parse_addr("1.2.3.4:", &ss, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(metrics_parse_addr("", &ss, err, sizeof(err)), -EINVAL);
}

static void test_text(void)
{
	struct metrics_target m = { .pid = 42, .up = true };
	size_t len;
	char *t;

	snprintf(m.comm, sizeof(m.comm), "a\"b\\c\nd\x01\xff");
	metrics_count_stall(&m, 150);
	metrics_count_stall(&m, 700);
	metrics_count_stall(&m, 1e9);   /* past the last bound: +Inf only */
	m.lag.hist[0] = 2;
	m.lag.hist[31] = 1;
	t = metrics_text(&m, 1, &len);
	CHECK(t != NULL && strlen(t) == len);
	CHECK(strstr(t, "loopscope_stalls_total{pid=\"42\",comm=\"a\\\"b\\\\c\\nd??\"} 3\n") != NULL);
	CHECK(strstr(t, "le=\"0.25\"} 1\n") != NULL);
	CHECK(strstr(t, "le=\"1\"} 2\n") != NULL);
	CHECK(strstr(t, "le=\"60\"} 2\n") != NULL);
	CHECK(strstr(t, "loopscope_stall_duration_seconds_bucket{pid=\"42\",comm=\"a\\\"b\\\\c\\nd??\",le=\"+Inf\"} 3\n"));
	CHECK(strstr(t, "loopscope_loop_lag_seconds_bucket{pid=\"42\",comm=\"a\\\"b\\\\c\\nd??\",le=\"2e-06\"} 2\n"));
	CHECK(strstr(t, "loopscope_loop_lag_seconds_count{pid=\"42\",comm=\"a\\\"b\\\\c\\nd??\"} 3\n"));
	CHECK(strstr(t, "# TYPE loopscope_lints_total counter\n") != NULL);
	CHECK(strstr(t, "lint=\"long-await\"} 0\n") != NULL);
	CHECK(strstr(t, "state=\"cancelled\"} 0\n") != NULL);
	free(t);
}

int main(void)
{
	RUN(test_good);
	RUN(test_incomplete);
	RUN(test_bad);
	RUN(test_too_large);
	RUN(test_addr);
	RUN(test_text);
	return unit_done();
}
