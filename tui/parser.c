/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "parser.h"

/* One line on its way: pushed, then parsed by the thread, then popped. */
struct item {
	char *line;            /* NULL once the thread took it */
	size_t len;
	json_t *doc;
	void *extra;           /* what the hook made of doc */
	bool parsed;
	struct item *next;
};

/* Prepared things the main thread let go of, released on the thread. */
struct extra_trash {
	void *extra;
	struct extra_trash *next;
};

struct line_parser {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work, done;   /* a line to parse; a line parsed */
	struct item *head, *tail;    /* oldest first */
	struct item *todo;           /* the first line not taken by the thread */
	json_t *trash;               /* documents to free (a list: the thread frees it whole) */
	struct extra_trash *extra_trash;
	struct line_prepare hook;
	uint64_t gen;                /* bumped by discard: what the thread holds is stale */
	int fd;                      /* an eventfd, written when a line is parsed */
	bool quit;
};

static void release_extra(struct line_parser *p, void *extra)
{
	if (extra && p->hook.release)
		p->hook.release(extra, p->hook.ctx);
}

static void item_free(struct line_parser *p, struct item *it)
{
	release_extra(p, it->extra);
	free(it->line);
	json_decref(it->doc);
	free(it);
}

static void wake_main(struct line_parser *p)
{
	uint64_t one = 1;

	if (write(p->fd, &one, sizeof(one)) < 0) {
		/* the counter is full: it is readable anyway */
	}
}

static void release_all(struct line_parser *p, struct extra_trash *e)
{
	while (e) {
		struct extra_trash *next = e->next;

		release_extra(p, e->extra);
		free(e);
		e = next;
	}
}

/* Frees what the main thread let go, outside the lock. */
static void empty_trash(struct line_parser *p)
{
	json_t *trash = p->trash;
	struct extra_trash *extras = p->extra_trash;

	p->trash = NULL;
	p->extra_trash = NULL;
	pthread_mutex_unlock(&p->lock);
	json_decref(trash);
	release_all(p, extras);
	pthread_mutex_lock(&p->lock);
}

/* Parses one line outside the lock; true while there is work. */
static bool parse_next(struct line_parser *p)
{
	struct item *it;
	uint64_t gen;
	char *line;
	size_t len;
	json_t *doc;

	void *extra = NULL;

	while (!p->quit && !p->todo && !p->trash && !p->extra_trash)
		pthread_cond_wait(&p->work, &p->lock);
	if (p->quit)
		return false;
	if (p->trash || p->extra_trash)
		empty_trash(p);
	if (!p->todo)
		return true;
	it = p->todo;
	p->todo = it->next;
	line = it->line;
	len = it->len;
	it->line = NULL;
	gen = p->gen;
	pthread_mutex_unlock(&p->lock);
	doc = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	free(line);
	if (doc && p->hook.prepare)
		extra = p->hook.prepare(doc, p->hook.ctx);
	pthread_mutex_lock(&p->lock);
	if (gen != p->gen) {         /* discarded meanwhile: it is gone */
		pthread_mutex_unlock(&p->lock);
		release_extra(p, extra);
		json_decref(doc);
		pthread_mutex_lock(&p->lock);
		return true;
	}
	it->doc = doc;
	it->extra = extra;
	it->parsed = true;
	pthread_cond_broadcast(&p->done);
	wake_main(p);
	return true;
}

static void *parser_main(void *arg)
{
	struct line_parser *p = arg;

	pthread_mutex_lock(&p->lock);
	while (parse_next(p))
		;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct line_parser *line_parser_new(const struct line_prepare *hook)
{
	struct line_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (hook)
		p->hook = *hook;
	p->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	if (p->fd < 0 || pthread_create(&p->thread, NULL, parser_main, p)) {
		if (p->fd >= 0)
			close(p->fd);
		free(p);
		return NULL;
	}
	return p;
}

static void drop_all(struct line_parser *p)
{
	while (p->head) {
		struct item *it = p->head;

		p->head = it->next;
		item_free(p, it);
	}
	p->tail = p->todo = NULL;
	p->gen++;
}

void line_parser_free(struct line_parser *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	drop_all(p);
	json_decref(p->trash);
	release_all(p, p->extra_trash);
	close(p->fd);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
}

int line_parser_push(struct line_parser *p, char *line, size_t len)
{
	struct item *it = calloc(1, sizeof(*it));

	if (!it) {
		free(line);
		return -ENOMEM;
	}
	it->line = line;
	it->len = len;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = it;
	else
		p->head = it;
	p->tail = it;
	if (!p->todo)
		p->todo = it;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int line_parser_pop(struct line_parser *p, bool wait, json_t **doc, size_t *len, void **extra)
{
	struct item *it;
	uint64_t count;

	pthread_mutex_lock(&p->lock);
	while (wait && p->head && !p->head->parsed)
		pthread_cond_wait(&p->done, &p->lock);
	it = p->head && p->head->parsed ? p->head : NULL;
	if (it) {
		p->head = it->next;
		if (!p->head)
			p->tail = NULL;
	}
	/* reset the fd once nothing parsed is left, under the lock so that a
	 * line parsed next writes it again after this */
	if (!p->head || !p->head->parsed)
		while (read(p->fd, &count, sizeof(count)) > 0)
			;
	pthread_mutex_unlock(&p->lock);
	if (!it)
		return 0;
	*doc = it->doc;
	*len = it->len;
	*extra = it->extra;
	it->doc = NULL;
	it->extra = NULL;
	item_free(p, it);
	return 1;
}

int line_parser_fd(const struct line_parser *p)
{
	return p->fd;
}

void line_parser_dispose(struct line_parser *p, json_t *doc)
{
	if (!doc)
		return;
	pthread_mutex_lock(&p->lock);
	if (!p->trash)
		p->trash = json_array();
	if (!p->trash) {             /* out of memory: freed here, slowly but freed */
		pthread_mutex_unlock(&p->lock);
		json_decref(doc);
		return;
	}
	json_array_append_new(p->trash, doc);
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

void line_parser_release(struct line_parser *p, void *extra)
{
	struct extra_trash *e;

	if (!extra)
		return;
	e = malloc(sizeof(*e));
	if (!e) {                    /* out of memory: released here */
		release_extra(p, extra);
		return;
	}
	e->extra = extra;
	pthread_mutex_lock(&p->lock);
	e->next = p->extra_trash;
	p->extra_trash = e;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

void line_parser_discard(struct line_parser *p)
{
	pthread_mutex_lock(&p->lock);
	drop_all(p);
	pthread_mutex_unlock(&p->lock);
}
