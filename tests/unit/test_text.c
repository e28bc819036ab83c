/* SPDX-License-Identifier: GPL-2.0-only */
/* text: target strings made safe for JSON (valid UTF-8) and terminals. */
#include <string.h>
#include "text.h"
#include "unit.h"

static void test_utf8_len(void)
{
	CHECK_EQ_INT(text_utf8_len("a"), 1);
	CHECK_EQ_INT(text_utf8_len("\xc3\xa9"), 2);           /* é */
	CHECK_EQ_INT(text_utf8_len("\xe2\x80\xa6"), 3);       /* … */
	CHECK_EQ_INT(text_utf8_len("\xf0\x9f\x90\x8d"), 4);   /* snake */
	CHECK_EQ_INT(text_utf8_len("\xed\xb2\x80"), 0);       /* lone surrogate U+DC80 */
	CHECK_EQ_INT(text_utf8_len("\xc0\xaf"), 0);           /* overlong '/' */
	CHECK_EQ_INT(text_utf8_len("\xe0\x80\xaf"), 0);       /* overlong, 3 bytes */
	CHECK_EQ_INT(text_utf8_len("\xf4\x90\x80\x80"), 0);   /* past U+10FFFF */
	CHECK_EQ_INT(text_utf8_len("\xc3"), 0);               /* cut at the NUL */
	CHECK_EQ_INT(text_utf8_len("\x80"), 0);               /* lone continuation */
}

static void test_clean_keeps_valid_text(void)
{
	char out[64];

	CHECK_EQ_INT(text_utf8_clean("Task-1 \xc3\xa9t\xc3\xa9", out, sizeof(out)), 12);
	CHECK_EQ_STR(out, "Task-1 \xc3\xa9t\xc3\xa9");
	text_utf8_clean("line\nbreak", out, sizeof(out));
	CHECK_EQ_STR(out, "line\nbreak"); /* JSON escapes it itself */
}

static void test_clean_escapes_invalid_bytes(void)
{
	char out[64];

	text_utf8_clean("stall-\xed\xb2\x80", out, sizeof(out));
	CHECK_EQ_STR(out, "stall-\\xed\\xb2\\x80");
	text_utf8_clean("\xff\xfe" "ok", out, sizeof(out));
	CHECK_EQ_STR(out, "\\xff\\xfeok");
}

static void test_clean_cuts_on_a_boundary(void)
{
	char out[8];

	/* "ab" + 2 x é (4 bytes) = 6 bytes + NUL fits 8; a third é does not */
	text_utf8_clean("ab\xc3\xa9\xc3\xa9\xc3\xa9", out, sizeof(out));
	CHECK_EQ_STR(out, "ab\xc3\xa9\xc3\xa9");
	/* an escape is never cut in half */
	text_utf8_clean("abcd\xff", out, 7);
	CHECK_EQ_STR(out, "abcd");
}

static void test_terminal_safe_defuses_sequences(void)
{
	char out[256];

	text_terminal_safe("x\x1b]0;owned\x07\x1b[2J\nFAKE 0xdead Task-9 pending", out, sizeof(out));
	CHECK_EQ_STR(out, "x\\x1b]0;owned\\x07\\x1b[2J\\nFAKE 0xdead Task-9 pending");
	CHECK(!strchr(out, '\x1b') && !strchr(out, '\n') && !strchr(out, '\a'));
	text_terminal_safe("a\\b\tc\r\x7f", out, sizeof(out));
	CHECK_EQ_STR(out, "a\\b\\tc\\x0d\\x7f");
	text_terminal_safe("csi\xc2\x9b" "31m", out, sizeof(out)); /* 8-bit CSI */
	CHECK_EQ_STR(out, "csi\\xc2\\x9b31m");
	text_terminal_safe("caf\xc3\xa9", out, sizeof(out));
	CHECK_EQ_STR(out, "caf\xc3\xa9");
}

static void test_safe_slots_rotate(void)
{
	const char *a = text_safe("a\n"), *b = text_safe("b");

	CHECK(a != b);
	CHECK_EQ_STR(a, "a\\n");
	CHECK_EQ_STR(b, "b");
	CHECK_EQ_STR(text_safe(NULL), "");
}

static void test_column_cuts_with_ellipsis(void)
{
	char out[64];

	text_column("short", 8, out, sizeof(out));
	CHECK_EQ_STR(out, "short   ");
	text_column("exactly8", 8, out, sizeof(out));
	CHECK_EQ_STR(out, "exactly8");
	text_column("WebSocketCommonProtocol.handler", 10, out, sizeof(out));
	CHECK_EQ_STR(out, "WebSocket\xe2\x80\xa6");
	CHECK_EQ_INT(text_width(out), 10);
	/* never cut inside a character: 6 x é, 4 columns */
	text_column("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4, out, sizeof(out));
	CHECK_EQ_STR(out, "\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	text_column("", 3, out, sizeof(out));
	CHECK_EQ_STR(out, "   ");
}

static void test_column_end_keeps_the_tail(void)
{
	char out[64];

	text_column_end("WebSocketCommonProtocol.handler", 12, out, sizeof(out));
	CHECK_EQ_STR(out, "\xe2\x80\xa6" "col.handler");
	CHECK_EQ_INT(text_width(out), 12);
	text_column_end("short", 8, out, sizeof(out));
	CHECK_EQ_STR(out, "short   ");
	text_column_end("\xc3\xa9\xc3\xa9\xc3\xa9xyz", 4, out, sizeof(out));
	CHECK_EQ_STR(out, "\xe2\x80\xa6xyz");
}

static void test_column_middle_keeps_both_ends(void)
{
	char out[64];

	text_column_middle("connection-handler-client-17", 12, out, sizeof(out));
	CHECK_EQ_STR(out, "conne" "\xe2\x80\xa6" "ent-17");
	CHECK_EQ_INT(text_width(out), 12);
	text_column_middle("short", 8, out, sizeof(out));
	CHECK_EQ_STR(out, "short   ");
	text_column_middle("\xc3\xa9\xc3\xa9\xc3\xa9xyz", 4, out, sizeof(out));
	CHECK_EQ_STR(out, "\xc3\xa9" "\xe2\x80\xa6" "yz");
	text_column_middle("abc", 0, out, sizeof(out));
	CHECK_EQ_STR(out, "");
}

int main(void)
{
	RUN(test_utf8_len);
	RUN(test_clean_keeps_valid_text);
	RUN(test_clean_escapes_invalid_bytes);
	RUN(test_clean_cuts_on_a_boundary);
	RUN(test_terminal_safe_defuses_sequences);
	RUN(test_safe_slots_rotate);
	RUN(test_column_cuts_with_ellipsis);
	RUN(test_column_end_keeps_the_tail);
	RUN(test_column_middle_keeps_both_ends);
	return unit_done();
}
