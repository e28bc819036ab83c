/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading containers out of target memory: dict (combined and split, with
 * 3.11+'s managed dicts and 3.13's inline values), set, list, tuple, weakref,
 * and instance attributes. Sizes are bounded: a corrupt or changing object
 * gives an error, never a runaway read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "containers.h"
#include "errors.h"

#define HDR_MAX 128
#define KEY_MAX 256

/* Everything about a dict's keys object needed to walk its entries. */
struct dict_walk {
	uint64_t entries;      /* address of the first entry */
	size_t nentries;
	size_t entry_size;
	int key_off, value_off;
	uint64_t values;       /* split table: values array, else 0 */
};

static int dict_keys_walk(struct py_proc *p, uint64_t keys, uint64_t values, struct dict_walk *w)
{
	const struct cpy_layout *L = &p->L;
	uint8_t k[HDR_MAX];
	size_t ksize = (size_t)L->dk_indices;
	int64_t nentries;
	uint64_t index_bytes;
	int err;

	err = remote_read(&p->mem, keys, k, ksize);
	if (err)
		return err;
	nentries = field_i64(k, ksize, L->dk_nentries);
	if (L->dk_size >= 0) { /* 3.10 */
		int64_t size = field_i64(k, ksize, L->dk_size);
		int ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffLL ? 4 : 8;

		if (size <= 0 || size > (1LL << 32))
			return -LS_EBADDATA;
		index_bytes = (uint64_t)size * (uint64_t)ix;
		w->entry_size = (size_t)L->dict_entry_size;
		w->key_off = 8;
		w->value_off = 16;
	} else {
		uint8_t log2_index_bytes = (uint8_t)field_i8(k, ksize, L->dk_log2_index_bytes);
		uint8_t kind = (uint8_t)field_i8(k, ksize, L->dk_kind);

		if (log2_index_bytes > 40)
			return -LS_EBADDATA;
		index_bytes = 1ULL << log2_index_bytes;
		w->entry_size = kind ? (size_t)L->dict_uentry_size : (size_t)L->dict_entry_size;
		w->key_off = kind ? 0 : 8;
		w->value_off = kind ? 8 : 16;
	}
	if (nentries < 0 || nentries > PY_MAX_CONTAINER)
		return -LS_EBADDATA;
	w->entries = keys + (uint64_t)L->dk_indices + index_bytes;
	w->nentries = (size_t)nentries;
	w->values = values ? values + (uint64_t)L->dv_values : 0;
	return 0;
}

/* Visits (index, key, value) of every live entry; stops when fn returns
 * nonzero, which is then returned. */
typedef int (*entry_fn)(struct py_proc *p, size_t ix, uint64_t key, uint64_t value, void *ctx);

static int walk_entries(struct py_proc *p, const struct dict_walk *w, entry_fn fn, void *ctx)
{
	size_t bytes = w->nentries * w->entry_size;
	uint64_t *values = NULL;
	uint8_t *e;
	int err, ret = 0;

	if (!w->nentries)
		return 0;
	e = malloc(bytes);
	if (!e)
		return -ENOMEM;
	err = remote_read(&p->mem, w->entries, e, bytes);
	if (!err && w->values) {
		values = malloc(w->nentries * sizeof(*values));
		err = values ? remote_read(&p->mem, w->values, values, w->nentries * sizeof(*values))
			     : -ENOMEM;
	}
	for (size_t i = 0; !err && !ret && i < w->nentries; i++) {
		uint64_t key = field_ptr(e + i * w->entry_size, w->entry_size, w->key_off);
		uint64_t value = values ? values[i]
					: field_ptr(e + i * w->entry_size, w->entry_size, w->value_off);

		if (key && value)
			ret = fn(p, i, key, value, ctx);
	}
	free(values);
	free(e);
	return err ? err : ret;
}

struct dict_fn_ctx {
	py_dict_visit_fn fn;
	void *ctx;
};

static int call_dict_fn(struct py_proc *p, size_t ix, uint64_t key, uint64_t value, void *ctx)
{
	struct dict_fn_ctx *c = ctx;

	return c->fn(p, key, value, c->ctx);
}

static int dict_walk_of(struct py_proc *p, uint64_t dict, struct dict_walk *w)
{
	const struct cpy_layout *L = &p->L;
	uint8_t d[HDR_MAX];
	size_t size = (size_t)L->dict_values + 8;
	int err;

	err = remote_read(&p->mem, dict, d, size);
	if (err)
		return err;
	/* subclasses (OrderedDict, defaultdict) share the layout */
	if (p->types.dict && !py_type_is_subtype(p, field_ptr(d, size, L->ob_type), p->types.dict))
		return -LS_EBADDATA;
	return dict_keys_walk(p, field_ptr(d, size, L->dict_keys), field_ptr(d, size, L->dict_values), w);
}

int py_dict_items(struct py_proc *p, uint64_t dict, py_dict_visit_fn fn, void *ctx)
{
	struct dict_fn_ctx c = { fn, ctx };
	struct dict_walk w;
	int err = dict_walk_of(p, dict, &w);

	return err ? err : walk_entries(p, &w, call_dict_fn, &c);
}

struct find_ctx {
	const char *key;
	uint64_t value;
	size_t ix;
	bool found;
};

static bool str_equals(struct py_proc *p, uint64_t obj, const char *s)
{
	char buf[KEY_MAX];

	return !py_read_str(p, obj, buf, sizeof(buf)) && !strcmp(buf, s);
}

static int match_key(struct py_proc *p, size_t ix, uint64_t key, uint64_t value, void *ctx)
{
	struct find_ctx *f = ctx;

	if (!str_equals(p, key, f->key))
		return 0;
	f->value = value;
	f->ix = ix;
	f->found = true;
	return 1;
}

static int find_in(struct py_proc *p, const struct dict_walk *w, const char *key, uint64_t *value)
{
	struct find_ctx f = { .key = key };
	int err = walk_entries(p, w, match_key, &f);

	if (err < 0)
		return err;
	if (!f.found)
		return -LS_ENOTFOUND;
	*value = f.value;
	return 0;
}

int py_dict_get_str(struct py_proc *p, uint64_t dict, const char *key, uint64_t *value)
{
	struct dict_walk w;
	int err = dict_walk_of(p, dict, &w);

	return err ? err : find_in(p, &w, key, value);
}

int py_set_items(struct py_proc *p, uint64_t set, py_set_visit_fn fn, void *ctx)
{
	const struct cpy_layout *L = &p->L;
	size_t esize = (size_t)L->set_entry_size, size = (size_t)L->set_table + 8;
	uint8_t s[HDR_MAX], *table;
	int64_t mask;
	int err, ret = 0;

	err = remote_read(&p->mem, set, s, size);
	if (err)
		return err;
	mask = field_i64(s, size, L->set_mask);
	if (mask < 0 || mask >= PY_MAX_CONTAINER * 2)
		return -LS_EBADDATA;
	table = malloc((size_t)(mask + 1) * esize);
	if (!table)
		return -ENOMEM;
	err = remote_read(&p->mem, field_ptr(s, size, L->set_table), table, (size_t)(mask + 1) * esize);
	for (int64_t i = 0; !err && !ret && i <= mask; i++) {
		uint64_t key = field_ptr(table + i * esize, esize, 0);
		int64_t hash = field_i64(table + i * esize, esize, 8);

		/* an empty slot has no key; a deleted one holds the dummy key, hash -1 */
		if (key && hash != -1)
			ret = fn(p, key, ctx);
	}
	free(table);
	return err ? err : ret;
}

int py_seq_items(struct py_proc *p, uint64_t obj, uint64_t **items, size_t *n)
{
	const struct cpy_layout *L = &p->L;
	uint64_t type = py_type_of(p, obj), array;
	int64_t size;
	int err;

	*items = NULL;
	*n = 0;
	err = remote_read_i64(&p->mem, obj + (uint64_t)L->ob_size, &size);
	if (err)
		return err;
	if (size < 0 || size > PY_MAX_CONTAINER)
		return -LS_EBADDATA;
	if (type == p->types.tuple) {
		array = obj + (uint64_t)L->tuple_item;
	} else if (type == p->types.list) {
		err = remote_read_ptr(&p->mem, obj + (uint64_t)L->list_item, &array);
		if (err)
			return err;
	} else {
		return -LS_EBADDATA;
	}
	if (!size)
		return 0;
	*items = malloc((size_t)size * sizeof(**items));
	if (!*items)
		return -ENOMEM;
	err = remote_read(&p->mem, array, *items, (size_t)size * sizeof(**items));
	if (err) {
		free(*items);
		*items = NULL;
		return err;
	}
	*n = (size_t)size;
	return 0;
}

int py_weakref_get(struct py_proc *p, uint64_t ref, uint64_t *obj)
{
	int err = remote_read_ptr(&p->mem, ref + (uint64_t)p->L.wr_object, obj);

	if (!err && *obj == p->types.none)
		*obj = 0; /* a dead reference points at None */
	return err;
}

#define TPFLAGS_INLINE_VALUES (1UL << 2)  /* 3.13 */
#define TPFLAGS_MANAGED_DICT (1UL << 4)   /* 3.11+ */

/* An attribute stored in a split table: the type's shared keys say where. */
static int split_lookup(struct py_proc *p, uint64_t type, uint64_t dict_values, const char *name,
			uint64_t *value)
{
	struct dict_walk w;
	uint64_t keys;
	int err;

	err = remote_read_ptr(&p->mem, type + (uint64_t)p->L.ht_cached_keys, &keys);
	if (err || !keys)
		return err ? err : -LS_ENOTFOUND;
	err = dict_keys_walk(p, keys, dict_values, &w);
	return err ? err : find_in(p, &w, name, value);
}

/* 3.11+: the attributes of an object with a managed dict: a dict, or the
 * values of a split table whose keys the type shares. */
static int managed_getattr(struct py_proc *p, uint64_t obj, uint64_t type, uint64_t flags,
			   int64_t basicsize, const char *name, uint64_t *value)
{
	const struct cpy_layout *L = &p->L;
	uint64_t pre;
	int err = remote_read_ptr(&p->mem, obj + (uint64_t)(int64_t)L->ob_managed_dict, &pre);

	if (err)
		return err;
	if (p->minor == 12 && (pre & 1))   /* tagged pointer to the values */
		return split_lookup(p, type, pre + 1, name, value);
	if (pre)
		return py_dict_get_str(p, pre, name, value);
	if (L->ob_managed_values) {        /* 3.11 */
		err = remote_read_ptr(&p->mem, obj + (uint64_t)(int64_t)L->ob_managed_values, &pre);
		return err ? err : pre ? split_lookup(p, type, pre, name, value) : -LS_ENOTFOUND;
	}
	if (p->minor >= 13 && (flags & TPFLAGS_INLINE_VALUES))
		return split_lookup(p, type, obj + (uint64_t)basicsize, name, value);
	return -LS_ENOTFOUND;
}

int py_getattr_str(struct py_proc *p, uint64_t obj, const char *name, uint64_t *value)
{
	const struct cpy_layout *L = &p->L;
	uint64_t type = py_type_of(p, obj), dict = 0, flags;
	int64_t dictoffset, basicsize;
	int err;

	if (!type)
		return -EFAULT;
	err = remote_read_ptr(&p->mem, type + (uint64_t)L->tp_flags, &flags);
	if (!err)
		err = remote_read_i64(&p->mem, type + (uint64_t)L->tp_dictoffset, &dictoffset);
	if (!err)
		err = remote_read_i64(&p->mem, type + (uint64_t)L->tp_basicsize, &basicsize);
	if (err)
		return err;
	if (L->ob_managed_dict && (flags & TPFLAGS_MANAGED_DICT))
		return managed_getattr(p, obj, type, flags, basicsize, name, value);
	if (dictoffset <= 0)
		return -LS_ENOTFOUND;
	err = remote_read_ptr(&p->mem, obj + (uint64_t)dictoffset, &dict);
	if (err || !dict)
		return err ? err : -LS_ENOTFOUND;
	return py_dict_get_str(p, dict, name, value);
}
