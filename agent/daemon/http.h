/* SPDX-License-Identifier: GPL-2.0-only */
/* An HTTP/1.x request head parser (RFC 9112) for the metrics endpoint, no
 * I/O: the request line and header fields, checked, within a size bound.
 * Only what a GET needs: a request with a body is refused (the endpoint
 * has no use for one, and a body's framing is where smuggling lives). */
#ifndef LOOPSCOPE_HTTP_H
#define LOOPSCOPE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEAD_MAX 8192   /* request line and headers, bytes */

struct http_request {
	char method[16];
	char path[256];      /* the target's path, without its query */
	int minor;           /* HTTP/1.minor */
	bool has_host;
};

/* Parses the head at the start of buf[0..len): the bytes it took (through
 * the empty line), 0 when incomplete (read more, unless len has reached
 * HTTP_HEAD_MAX: then it is 431), or -STATUS to answer with (400 bad
 * syntax, 431 head too large, 501 a body's framing, 505 not HTTP/1.x). */
long http_parse(const char *buf, size_t len, struct http_request *req);
/* "Not Found" for 404, ...; "Error" for codes it does not know. */
const char *http_reason(int status);

#endif
