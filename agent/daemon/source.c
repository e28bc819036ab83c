/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output.h"
#include "proc.h"
#include "source.h"

static bool is_py(const char *file)
{
	size_t n = strlen(file);

	return file[0] == '/' && n > 3 && !strcmp(file + n - 3, ".py") && !strstr(file, "/../");
}

/* Whether peer p could read file itself, by the mode bits of the file and
 * of each directory above it (the agent reads as root: a target's frames
 * name any file its owner likes). The file it saw goes to *seen. */
static bool peer_may_read(pid_t pid, const char *file, const struct access_peer *p, struct stat *seen)
{
	char prefix[4097], path[4200];
	size_t n = strlen(file);
	struct stat st;

	if (n >= sizeof(prefix))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (file[i] != '/')
			continue;
		memcpy(prefix, file, i + 1);   /* "/", "/a/", "/a/b/" ... */
		prefix[i + 1] = 0;
		proc_root_path(pid, prefix, path, sizeof(path));
		if (stat(path, &st) || !S_ISDIR(st.st_mode) || !access_peer_may(p, &st, 1))
			return false;
	}
	proc_root_path(pid, file, path, sizeof(path));
	return !stat(path, seen) && access_peer_may(p, seen, 4);
}

static char *read_as(pid_t pid, const char *file, const struct access_peer *peer, size_t *len,
		     char *err, size_t errlen)
{
	char path[4200];
	struct stat st, checked;
	char *buf = NULL;
	ssize_t n = 0;
	int fd;

	/* a socket client or a target's frames name the file: nothing else */
	if (!is_py(file)) {
		snprintf(err, errlen, "only absolute paths of .py files are served");
		return NULL;
	}
	if (peer && !peer_may_read(pid, file, peer, &checked)) {
		snprintf(err, errlen, "uid %u may not read %s", (unsigned)peer->uid, file);
		return NULL;
	}
	proc_root_path(pid, file, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > SOURCE_MAX_BYTES) {
		snprintf(err, errlen, "%s", fd < 0 ? strerror(errno) : "not a regular file of at most 8 MiB");
		goto out;
	}
	if (peer && (st.st_dev != checked.st_dev || st.st_ino != checked.st_ino)) {
		snprintf(err, errlen, "%s changed while it was opened", file);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf)
		n = read(fd, buf, (size_t)st.st_size);
	if (!buf || n < 0) {
		snprintf(err, errlen, "cannot read it");
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = 0;
	*len = (size_t)n;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

char *source_read(pid_t pid, const char *file, size_t *len, char *err, size_t errlen)
{
	return read_as(pid, file, NULL, len, err, errlen);
}

json_t *source_lines(pid_t pid, const char *file, long long line, long long context,
		     const struct access_peer *peer, char *err, size_t errlen)
{
	long long first = line - context > 1 ? line - context : 1, last = line + context, no = 1;
	json_t *lines;
	size_t len;
	char *buf, *p, *nl;

	buf = read_as(pid, file, peer, &len, err, errlen);
	if (!buf)
		return NULL;
	lines = json_array();
	for (p = buf; p < buf + len && no <= last; p = nl + 1, no++) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		if (!nl)
			nl = buf + len;
		*nl = 0;
		if (no >= first)
			json_array_append_new(lines, json_text(p));
	}
	free(buf);
	return json_pack("{s:i, s:o, s:I, s:o}", "pid", pid, "file", json_text(file),
			 "first", (json_int_t)first, "lines", lines);
}

#define NOTE_DEPTH_MAX 16   /* events nest stacks in tasks in stalls: no deeper */

static void note_files(struct intern *seen, const json_t *doc, int depth)
{
	const char *key;
	json_t *v;
	size_t i;

	if (depth > NOTE_DEPTH_MAX)
		return;
	if (json_is_array(doc)) {
		json_array_foreach(doc, i, v)
			note_files(seen, v, depth + 1);
		return;
	}
	json_object_foreach((json_t *)doc, key, v) {
		if (!strcmp(key, "file") && json_is_string(v))
			intern_str(seen, json_string_value(v));
		else if (json_is_object(v) || json_is_array(v))
			note_files(seen, v, depth + 1);
	}
}

void source_note_files(struct intern *seen, const json_t *doc)
{
	note_files(seen, doc, 0);
}
