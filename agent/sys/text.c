/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdio.h>
#include <string.h>
#include "text.h"

#define SAFE_SLOT_LEN 2048

size_t text_utf8_len(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2, cp = u[0] & 0x1f;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3, cp = u[0] & 0x0f;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4, cp = u[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		cp = (cp << 6) | (u[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool put(char *out, size_t len, size_t *at, const char *s, size_t n)
{
	if (*at + n >= len)
		return false;
	memcpy(out + *at, s, n);
	*at += n;
	return true;
}

static bool put_byte_escape(char *out, size_t len, size_t *at, unsigned char b)
{
	char esc[5];

	snprintf(esc, sizeof(esc), "\\x%02x", b);
	return put(out, len, at, esc, 4);
}

/* The terminal form of one character of n bytes at s: false when full. */
static bool put_terminal(char *out, size_t len, size_t *at, const char *s, size_t n)
{
	unsigned char b = (unsigned char)s[0];

	if (n == 1 && b == '\n')
		return put(out, len, at, "\\n", 2);
	if (n == 1 && b == '\t')
		return put(out, len, at, "\\t", 2);
	if (n == 1 && (b < 0x20 || b == 0x7f))
		return put_byte_escape(out, len, at, b);
	/* C1 controls (U+0080-U+009F, e.g. CSI) are UTF-8 c2 80-c2 9f */
	if (n == 2 && b == 0xc2 && (unsigned char)s[1] < 0xa0)
		return put_byte_escape(out, len, at, 0xc2) &&
		       put_byte_escape(out, len, at, (unsigned char)s[1]);
	return put(out, len, at, s, n);
}

static size_t clean(const char *in, char *out, size_t len, bool terminal)
{
	size_t at = 0;

	if (!len)
		return 0;
	while (*in) {
		size_t n = text_utf8_len(in);
		bool ok = !n ? put_byte_escape(out, len, &at, (unsigned char)*in)
		       : terminal ? put_terminal(out, len, &at, in, n) : put(out, len, &at, in, n);

		if (!ok)
			break;
		in += n ? n : 1;
	}
	out[at] = 0;
	return at;
}

size_t text_utf8_clean(const char *in, char *out, size_t len)
{
	return clean(in, out, len, false);
}

size_t text_terminal_safe(const char *in, char *out, size_t len)
{
	return clean(in, out, len, true);
}

const char *text_safe(const char *in)
{
	static char slots[TEXT_SAFE_SLOTS][SAFE_SLOT_LEN];
	static unsigned next;
	char *out = slots[next++ % TEXT_SAFE_SLOTS];

	text_terminal_safe(in ? in : "", out, SAFE_SLOT_LEN);
	return out;
}

size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static const char *skip_chars(const char *s, size_t n)
{
	for (; *s && n; n--) {
		size_t k = text_utf8_len(s);

		s += k ? k : 1;
	}
	return s;
}

/* Copies up to n characters of s; false when out is full. */
static bool put_chars(char *out, size_t len, size_t *at, const char *s, size_t n)
{
	for (; *s && n; n--) {
		size_t k = text_utf8_len(s);

		k = k ? k : 1;
		if (!put(out, len, at, s, k))
			return false;
		s += k;
	}
	return true;
}

enum keep { KEEP_START, KEEP_END, KEEP_BOTH };

/* s in a column of width characters: when it is longer, the characters
 * kept (its start, its end, or both) around one "…". */
static void column(const char *s, size_t width, enum keep mode, char *out, size_t len)
{
	size_t at = 0, total = text_width(s), head = total, tail = 0, w;
	bool cut = total > width;

	if (!len)
		return;
	if (cut) {
		size_t keep = width ? width - 1 : 0;

		tail = mode == KEEP_END ? keep : mode == KEEP_BOTH ? (keep + 1) / 2 : 0;
		head = keep - tail;
	}
	put_chars(out, len, &at, s, head);
	if (cut && width && put(out, len, &at, "\xe2\x80\xa6", 3)) /* … */
		put_chars(out, len, &at, skip_chars(s, total - tail), tail);
	for (w = cut ? width : total; w < width && put(out, len, &at, " ", 1); w++)
		;
	out[at] = 0;
}

void text_column(const char *s, size_t width, char *out, size_t len)
{
	column(s, width, KEEP_START, out, len);
}

void text_column_end(const char *s, size_t width, char *out, size_t len)
{
	column(s, width, KEEP_END, out, len);
}

void text_column_middle(const char *s, size_t width, char *out, size_t len)
{
	column(s, width, KEEP_BOTH, out, len);
}
