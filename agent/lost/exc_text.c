/* SPDX-License-Identifier: GPL-2.0-only */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exc_text.h"

#define VALUE_MAX 600  /* one value as text: 128 code units, escaped */

/* Appends to a bounded buffer; the text is cut when it is full. */
struct out {
	char *buf;
	size_t len, at;
};

static void put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (!o->len || o->at >= o->len - 1)
		return;
	if (n > o->len - 1 - o->at)
		n = o->len - 1 - o->at;
	memcpy(o->buf + o->at, s, n);
	o->at += n;
	o->buf[o->at] = 0;
}

/* Python's repr of a float: the shortest form that reads back the same. */
static void float_repr(double v, char *buf, size_t len)
{
	if (isnan(v) || isinf(v)) {
		snprintf(buf, len, isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (!strpbrk(buf, ".einn"))
		strncat(buf, ".0", len - strlen(buf) - 1);
}

/* The decoded text of a copied str, "..." when it was longer. */
static void str_text(const struct lost_str *s, char *buf, size_t len)
{
	size_t at = py_decode_units(s->data, s->kind, s->len < LOST_STR_MAX ? s->len : 0, buf, len);

	if (s->total > s->len && at + 4 < len)
		strcat(buf, "...");
}

/* repr() of a str: quotes as Python picks them, escapes for what is not
 * printable (the text stays valid UTF-8: non-ASCII is kept). */
static void str_repr(const char *text, char *buf, size_t len)
{
	char quote = strchr(text, '\'') && !strchr(text, '"') ? '"' : '\'';
	struct out o = { buf, len, 0 };
	char q[2] = { quote, 0 }, esc[8];

	buf[0] = 0;
	put(&o, q);
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c == '\\' || *c == (unsigned char)quote)
			snprintf(esc, sizeof(esc), "\\%c", *c);
		else if (*c == '\n' || *c == '\r' || *c == '\t')
			snprintf(esc, sizeof(esc), "\\%c", *c == '\n' ? 'n' : *c == '\r' ? 'r' : 't');
		else if (*c < 0x20 || *c == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", *c);
		else
			snprintf(esc, sizeof(esc), "%c", *c);
		put(&o, esc);
	}
	put(&o, q);
}

/* str() (repr false) or repr() of a copied value. */
static void value_text(const struct lost_str *v, bool repr, char *buf, size_t len)
{
	char text[VALUE_MAX];
	double d;

	buf[0] = 0;
	switch (v->kind) {
	case 1: case 2: case 4:
		str_text(v, text, sizeof(text));
		if (repr)
			str_repr(text, buf, len);
		else
			snprintf(buf, len, "%s", text);
		break;
	case LOST_STR_INT:
		snprintf(buf, len, "%lld", (long long)v->as_int);
		break;
	case LOST_STR_FLOAT:
		memcpy(&d, &v->as_int, sizeof(d));
		float_repr(d, buf, len);
		break;
	case LOST_STR_OBJ:
		if (!strncmp(v->data, "NoneType", LOST_STR_MAX))
			snprintf(buf, len, "None");
		else
			snprintf(buf, len, "<%.*s object at 0x%llx>", LOST_STR_MAX, v->data,
				 (unsigned long long)v->as_int);
		break;
	default:
		snprintf(buf, len, "?");
	}
}

static void put_value(struct out *o, const struct lost_str *v, bool repr)
{
	char text[VALUE_MAX];

	value_text(v, repr, text, sizeof(text));
	put(o, text);
}

/* BaseException.__str__: "", str(args[0]), or the args tuple's repr. */
static void args_text(const struct lost_event *e, struct out *o)
{
	uint32_t shown = e->nargs < LOST_EXC_ARGS ? e->nargs : LOST_EXC_ARGS;

	if (e->nargs == 1) {
		put_value(o, &e->args[0], false);
		return;
	}
	if (!e->nargs)
		return;
	put(o, "(");
	for (uint32_t i = 0; i < shown; i++) {
		if (i)
			put(o, ", ");
		put_value(o, &e->args[i], true);
	}
	put(o, e->nargs > shown ? ", ...)" : ")");
}

/* OSError.__str__: "[Errno N] strerror: 'filename' -> 'filename2'". */
static bool oserror_text(const struct lost_event *e, struct out *o)
{
	if (!e->os_filename.kind && !(e->os_errno.kind && e->os_strerror.kind))
		return false;
	put(o, "[Errno ");
	put_value(o, &e->os_errno, false);
	put(o, "] ");
	put_value(o, &e->os_strerror, false);
	if (e->os_filename.kind) {
		put(o, ": ");
		put_value(o, &e->os_filename, true);
	}
	if (e->os_filename.kind && e->os_filename2.kind) {
		put(o, " -> ");
		put_value(o, &e->os_filename2, true);
	}
	return true;
}

void exc_text_render(const struct lost_event *e, enum py_exc_str kind, char *buf, size_t len)
{
	char type[LOST_TYPE_MAX + 1], text[1024];
	struct out o = { text, sizeof(text), 0 };

	memcpy(type, e->exc_type, LOST_TYPE_MAX);
	type[LOST_TYPE_MAX] = 0;
	text[0] = 0;
	if (kind == PY_EXC_STR_KEYERROR && e->nargs == 1)
		put_value(&o, &e->args[0], true);
	else if (kind != PY_EXC_STR_OSERROR || !oserror_text(e, &o))
		args_text(e, &o);
	if (kind == PY_EXC_STR_OTHER)
		put(&o, " [its type's own __str__ cannot run from outside: its args are shown]");
	snprintf(buf, len, text[0] ? "%s: %s" : "%s", type, text);
}
