/* SPDX-License-Identifier: GPL-2.0-only */
#include "cli.h"
#include "watch_opts.h"

struct watch_opts watch_opts = { .threshold_ms = 100 };

static const struct argp_option options[] = {
	{ "threshold", 't', "MS", 0, "Report loop stalls longer than MS milliseconds (default 100)", 0 },
	{ "duration", 'd', "S", 0, "Stop after S seconds (default: until Ctrl-C or exit)", 0 },
	{ "json", 'j', NULL, 0, "Print NDJSON events instead of text", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's messages", 0 },
	{ "precise", 'P', NULL, 0, "Trace every syscall entry: exact syscall counts "
	  "and loop iterations, at a cost to every process of the machine (~0.1 us a syscall)", 0 },
	{},
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 't':
		cli_threshold_arg(arg, state, &watch_opts.threshold_ms);
		return 0;
	case 'd':
		cli_duration_arg(arg, state, &watch_opts.duration_s);
		return 0;
	case 'j':
		watch_opts.json = true;
		return 0;
	case 'v':
		watch_opts.verbose = true;
		return 0;
	case 'P':
		watch_opts.precise = true;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp watch_opts_argp = { .options = options, .parser = parse };
