/* SPDX-License-Identifier: GPL-2.0-only */
/* Strings that come from a target are hostile: bytes that are not UTF-8,
 * lone surrogates, terminal escape sequences, newlines. These make them
 * safe for each place they go, the way Python's "backslashreplace" and
 * `ls`'s quoting do: what cannot be shown as it is becomes visible
 * backslash text, and nothing next to it is lost. */
#ifndef LOOPSCOPE_TEXT_H
#define LOOPSCOPE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length of the valid UTF-8 sequence at s (1-4), 0 when s does not
 * start one (bad lead byte, bad or missing continuation, overlong form,
 * a surrogate, past U+10FFFF). */
size_t text_utf8_len(const char *s);
/* Copies in to out (NUL-terminated, cut on a character boundary to fit
 * len) as valid UTF-8: each byte that starts no valid sequence becomes
 * "\xNN". Returns the bytes written. */
size_t text_utf8_clean(const char *in, char *out, size_t len);
/* Like text_utf8_clean, and also every C0/C1 control character and DEL
 * (ESC, BEL, CR, LF, ...) becomes "\xNN" ("\n", "\t" as such), so the text cannot move the cursor, retitle or clear a
 * terminal, or forge a line. */
size_t text_terminal_safe(const char *in, char *out, size_t len);
/* text_terminal_safe into one of a few rotating static buffers: for
 * printf arguments; valid until TEXT_SAFE_SLOTS more calls. */
#define TEXT_SAFE_SLOTS 16
const char *text_safe(const char *in);
/* Characters (code points) in a valid UTF-8 string. */
size_t text_width(const char *s);
/* s cut to at most width characters on a character boundary, with "…"
 * as the last one when it was cut, then padded with spaces to width
 * (a table column). */
void text_column(const char *s, size_t width, char *out, size_t len);
/* The same, keeping the end when it cuts ("…Protocol.handler"): for
 * names whose last part tells them apart (qualnames, paths). */
void text_column_end(const char *s, size_t width, char *out, size_t len);
/* The same, keeping both ends ("connection-…client-17"): for names that
 * share a prefix and differ at their end, or the other way round. */
void text_column_middle(const char *s, size_t width, char *out, size_t len);

#endif
