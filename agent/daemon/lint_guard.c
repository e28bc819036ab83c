/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdlib.h>
#include <string.h>
#include "lint_guard.h"
#include "source.h"

#define CACHED_FILES 8
#define LINES_BACK_MAX 20000   /* how far up an enclosing block is looked for */

struct cached {
	char *path;
	char *text;            /* NULL: unreadable (remembered too) */
	size_t len;
};

struct lint_guard {
	pid_t pid;
	struct cached files[CACHED_FILES];
	unsigned next;         /* the slot replaced next */
};

struct span {
	const char *s;
	size_t n;
};

/* Line `line` (1-based) of text, or n == 0 past the end. */
static struct span line_at(const char *text, size_t len, int line, const char **start)
{
	const char *p = text, *end = text + len, *nl;

	for (int i = 1; i < line && p < end; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	*start = p;
	nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
	return (struct span){ p, (size_t)((nl ? nl : end) - p) };
}

/* The line before the one starting at p, or n == 0 at the top. */
static struct span line_before(const char *text, const char *p)
{
	const char *e, *b;

	if (p <= text)
		return (struct span){ text, 0 };
	e = p - 1;   /* its '\n' */
	for (b = e; b > text && b[-1] != '\n'; b--)
		;
	return (struct span){ b, (size_t)(e - b) + (e == b ? 1 : 0) };
}

/* Columns of leading white space; -1 for a blank or comment-only line. */
static int indent(struct span l)
{
	int col = 0;

	for (size_t i = 0; i < l.n; i++) {
		if (l.s[i] == ' ')
			col++;
		else if (l.s[i] == '\t')
			col = (col / 8 + 1) * 8;
		else
			return l.s[i] == '#' || l.s[i] == '\r' || l.s[i] == '\n' ? -1 : col;
	}
	return -1;
}

static bool has(struct span l, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= l.n; i++)
		if (!memcmp(l.s + i, needle, k))
			return true;
	return false;
}

static bool starts(struct span l, const char *word)
{
	size_t i = 0, k = strlen(word);

	while (i < l.n && (l.s[i] == ' ' || l.s[i] == '\t'))
		i++;
	return l.n - i >= k && !memcmp(l.s + i, word, k);
}

static bool timeout_header(struct span l)
{
	return starts(l, "async with") && (has(l, "timeout(") || has(l, "timeout_at("));
}

bool lint_guard_text(const char *text, size_t len, int line)
{
	const char *p;
	struct span l = line_at(text, len, line, &p);
	int cur = indent(l), n = 0;

	if (line < 1 || !l.n || cur < 0)
		return false;
	if (timeout_header(l))   /* async with asyncio.timeout(1): await x */
		return true;
	while (cur > 0 && n++ < LINES_BACK_MAX) {
		int ind;

		l = line_before(text, p);
		if (!l.n)
			return false;
		p = l.s;
		ind = indent(l);
		if (ind < 0 || ind >= cur)
			continue;
		cur = ind;
		if (timeout_header(l))
			return true;
		if (starts(l, "def ") || starts(l, "async def ") || starts(l, "class "))
			return false;
	}
	return false;
}

struct lint_guard *lint_guard_new(pid_t pid)
{
	struct lint_guard *g = calloc(1, sizeof(*g));

	if (g)
		g->pid = pid;
	return g;
}

static void cached_done(struct cached *c)
{
	free(c->path);
	free(c->text);
	memset(c, 0, sizeof(*c));
}

void lint_guard_free(struct lint_guard *g)
{
	if (!g)
		return;
	for (int i = 0; i < CACHED_FILES; i++)
		cached_done(&g->files[i]);
	free(g);
}

static const struct cached *file_of(struct lint_guard *g, const char *file)
{
	struct cached *c;
	char err[160];

	for (int i = 0; i < CACHED_FILES; i++)
		if (g->files[i].path && !strcmp(g->files[i].path, file))
			return &g->files[i];
	c = &g->files[g->next++ % CACHED_FILES];
	cached_done(c);
	c->path = strdup(file);
	if (!c->path)
		return NULL;
	c->text = source_read(g->pid, file, &c->len, err, sizeof(err));
	return c;
}

bool lint_guard_source(void *ctx, const char *file, int line)
{
	const struct cached *c = file_of(ctx, file);

	return c && c->text && lint_guard_text(c->text, c->len, line);
}
