/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "http.h"

struct cursor {
	const char *p, *end;
};

/* tchar of RFC 9110 5.6.2 */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A line up to CRLF (a bare LF is tolerated, as RFC 9112 2.2 allows; a bare
 * CR is not). false when the line is not complete in the buffer. */
static bool next_line(struct cursor *c, const char **s, size_t *n, bool *bad)
{
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));

	if (!nl)
		return false;
	*s = c->p;
	*n = (size_t)(nl - c->p);
	if (*n && (*s)[*n - 1] == '\r')
		(*n)--;
	if (memchr(*s, '\r', *n) || memchr(*s, 0, *n))
		*bad = true;
	c->p = nl + 1;
	return true;
}

/* method SP request-target SP HTTP-version */
static int request_line(const char *s, size_t n, struct http_request *req)
{
	const char *sp1 = memchr(s, ' ', n), *sp2, *q;
	size_t ml, tl;

	if (!sp1)
		return -400;
	ml = (size_t)(sp1 - s);
	sp2 = memchr(sp1 + 1, ' ', n - ml - 1);
	if (!ml || ml >= sizeof(req->method) || !sp2)
		return -400;
	for (size_t i = 0; i < ml; i++)
		if (!is_tchar((unsigned char)s[i]))
			return -400;
	tl = (size_t)(sp2 - sp1 - 1);
	if (!tl || sp1[1] != '/')       /* origin-form only: this is no proxy */
		return -400;
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)sp1[1 + i] <= ' ' || (unsigned char)sp1[1 + i] >= 0x7f)
			return -400;
	q = memchr(sp1 + 1, '?', tl);
	if (q)
		tl = (size_t)(q - sp1 - 1);
	if (tl >= sizeof(req->path))
		return -400;   /* no path of ours is that long: 404 would do, but it is junk */
	if ((size_t)(s + n - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/", 5) || sp2[7] != '.' ||
	    sp2[6] < '0' || sp2[6] > '9' || sp2[8] < '0' || sp2[8] > '9')
		return -400;
	if (sp2[6] != '1')
		return -505;
	memcpy(req->method, s, ml);
	req->method[ml] = 0;
	memcpy(req->path, sp1 + 1, tl);
	req->path[tl] = 0;
	req->minor = sp2[8] - '0';
	return 0;
}

/* field-name ":" OWS field-value OWS */
static int header_line(const char *s, size_t n, struct http_request *req)
{
	const char *colon = memchr(s, ':', n), *v;
	size_t nl;

	if (s[0] == ' ' || s[0] == '\t')
		return -400;   /* obs-fold: rejected, as RFC 9112 5.2 allows */
	if (!colon || colon == s)
		return -400;
	nl = (size_t)(colon - s);
	for (size_t i = 0; i < nl; i++)
		if (!is_tchar((unsigned char)s[i]))
			return -400;   /* includes white space before the colon (5.1) */
	for (v = colon + 1; v < s + n; v++)
		if ((unsigned char)*v < ' ' && *v != '\t')
			return -400;
	if (nl == 4 && !strncasecmp(s, "host", 4)) {
		if (req->has_host)
			return -400;   /* 9110 7.2: exactly one */
		req->has_host = true;
	}
	if (nl == 17 && !strncasecmp(s, "transfer-encoding", 17))
		return -501;
	if (nl == 14 && !strncasecmp(s, "content-length", 14)) {
		for (v = colon + 1; v < s + n && (*v == ' ' || *v == '\t'); v++)
			;
		if (v == s + n || *v != '0' || (v + 1 < s + n && v[1] != ' ' && v[1] != '\t'))
			return -501;   /* a body: not for this endpoint */
	}
	return 0;
}

long http_parse(const char *buf, size_t len, struct http_request *req)
{
	struct cursor c = { buf, buf + (len > HTTP_HEAD_MAX ? HTTP_HEAD_MAX : len) };
	const char *s = NULL;
	size_t n = 0;
	bool bad = false, first = true;
	int rc;

	memset(req, 0, sizeof(*req));
	/* RFC 9112 2.2: empty lines before the request line are skipped */
	while (c.p < c.end && (*c.p == '\r' || *c.p == '\n'))
		c.p++;
	while (next_line(&c, &s, &n, &bad)) {
		if (bad)
			return -400;
		if (!n && first)
			return -400;
		if (!n)
			break;
		rc = first ? request_line(s, n, req) : header_line(s, n, req);
		if (rc)
			return rc;
		first = false;
		s = NULL;
	}
	if (!s || n)   /* no empty line yet */
		return len >= HTTP_HEAD_MAX ? -431 : 0;
	if (req->minor >= 1 && !req->has_host)
		return -400;
	return (long)(c.p - buf);
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}
