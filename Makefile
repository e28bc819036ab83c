# SPDX-License-Identifier: GPL-2.0-only
# loopscope: see README.md. `make` builds build/loopscope, `make test` runs
# every test (unit tests first), `make check` only the unit tests (no root),
# `make deps` installs the Debian packages all of them need.

OUTPUT   := build
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
CLANG    ?= clang
CC       ?= gcc
BPFTOOL  ?= bpftool
LLVM_STRIP ?= llvm-strip
PREFIX   ?= /usr/local
DESTDIR  ?=

# User flags (CFLAGS, EXTRA_CFLAGS, LDFLAGS) stay apart from the project's
# own, so `make CFLAGS=-O0` keeps the include paths (as libbpf-tools does).
CFLAGS   ?= -O2 -g
LS_CFLAGS := -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE -I$(OUTPUT)
BPF_CFLAGS := -g -O2 -Wall -Wextra -Wno-unused-parameter -target bpf -mcpu=v3 \
              -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Ibpf
LDLIBS   += -lbpf -ldw -lelf -lz -ljansson -luv -lm

# Debian packages for building, testing, the demo and the benchmarks.
DEB_PKGS := make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
            libuv1-dev libjansson-dev libncurses-dev libdw-dev pkg-config linux-libc-dev \
            python3 python3-aiohttp python3-uvloop python3.11-dbg nodejs wrk tmux help2man gdb \
            debootstrap prometheus gunicorn

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# The layers of agent/, lowest first. Each is compiled with the include
# paths of itself and the layers below it only, so a lower layer that
# includes a higher one's header does not build.
LAYERS        := sys cpython stall lost out daemon cli
LAYER_sys     := sys
LAYER_cpython := sys cpython
LAYER_stall   := sys cpython stall bpf
LAYER_lost    := sys cpython lost bpf
LAYER_out     := sys cpython stall lost out bpf
LAYER_daemon  := sys cpython stall lost out daemon bpf
LAYER_cli     := sys cpython stall lost out daemon cli bpf
layer_inc = $(foreach d,$(LAYER_$(1)),$(if $(filter bpf,$(d)),-Ibpf,-Iagent/$(d)))

AGENT_SRCS := $(foreach l,$(LAYERS),$(wildcard agent/$(l)/*.c))
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
SKELS      := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
OBJS       := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(AGENT_SRCS))
LIB_OBJS   := $(filter-out $(OUTPUT)/obj/agent/cli/%,$(OBJS))
DEPS_STAMP := $(OUTPUT)/.deps-checked

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%,$(UNIT_SRCS))

.PHONY: all deps test check demo bench layouts roots install uninstall clean
.DELETE_ON_ERROR:
.SECONDARY:

all: $(OUTPUT)/loopscope

# Checks every package (cheap) and installs only what is missing.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi

$(DEPS_STAMP): Makefile
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)mkdir -p $(OUTPUT) && touch $@

$(OUTPUT)/vmlinux.h: | $(DEPS_STAMP)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(OUTPUT)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c bpf/%.h $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

# The programs that read Python stacks share one walker.
$(OUTPUT)/lost.bpf.o $(OUTPUT)/stall_sample.bpf.o: bpf/pyframes.h bpf/pyframes.bpf.h

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# x86_64/arm64 syscall names, from the installed kernel headers.
$(OUTPUT)/syscall_names.h: | $(DEPS_STAMP)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(OUTPUT)
	$(Q)echo '#include <asm/unistd.h>' | $(CC) -E -dM - | \
		awk '/^#define __NR_[a-z0-9_]+ [0-9]+$$/ { n=substr($$2,6); print "[" $$3 "] = \"" n "\"," }' \
		| sort -t[ -k2 -n > $@

# Only the objects that include a generated header wait for it; the rest
# rebuild from their own -MMD dependencies.
$(OUTPUT)/obj/agent/stall/stall_tracer.o: $(OUTPUT)/stall.skel.h
$(OUTPUT)/obj/agent/stall/stall_kstack.o: $(OUTPUT)/stall_sample.skel.h
$(OUTPUT)/obj/agent/lost/lost_tracer.o: $(OUTPUT)/lost.skel.h
$(OUTPUT)/obj/agent/sys/syscalls.o: $(OUTPUT)/syscall_names.h

define layer_rule
$(OUTPUT)/obj/agent/$(1)/%.o: agent/$(1)/%.c | $(DEPS_STAMP)
	$$(call msg,CC,$$@)
	$(Q)mkdir -p $$(dir $$@)
	$(Q)$$(CC) $$(LS_CFLAGS) $(call layer_inc,$(1)) $$(CFLAGS) $$(EXTRA_CFLAGS) -MMD -MP -c $$< -o $$@
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rule,$(l))))

# tui/: the TUI, a layer beside agent/ rather than above it: it talks to
# the agent only through the protocol, so it is built with tui/'s own
# headers alone, and only cmd_tui.o and cmd_top.o (the subcommands) see
# tui/tui.h.
TUI_SRCS   := $(wildcard tui/*.c)
TUI_OBJS   := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(TUI_SRCS))
TUI_CFLAGS := -Itui -DNCURSES_WIDECHAR=1
LDLIBS     += -lncursesw

$(OUTPUT)/obj/tui/%.o: tui/%.c | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LS_CFLAGS) $(TUI_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c $< -o $@

# The TUI's unit tests link its objects, not the agent's.
$(OUTPUT)/unit/test_tui_%: tests/unit/test_tui_%.c tests/unit/unit.h $(TUI_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LS_CFLAGS) $(TUI_CFLAGS) -Itests/unit $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) \
		$< $(TUI_OBJS) -o $@ -ljansson -lncursesw -lm

$(OUTPUT)/obj/agent/cli/cmd_tui.o $(OUTPUT)/obj/agent/cli/cmd_top.o: LS_CFLAGS += -Itui
$(OUTPUT)/loopscope: $(TUI_OBJS)

$(OUTPUT)/loopscope: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# Unit tests: pure code against the agent's objects, no root, no BPF.
$(OUTPUT)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LS_CFLAGS) $(call layer_inc,cli) -Itests/unit $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) \
		$< $(LIB_OBJS) -o $@ $(LDLIBS)

check: $(UNIT_BINS)
	$(Q)tests/unit/run-unit.sh $(UNIT_BINS)

# The Debian testing root the 3.14/3.15 targets run in (tools/make-root.sh):
# cached under /var/cache/loopscope/, reused while fresh and complete. When
# it cannot be built, `make test` goes on and those cases are skipped.
ROOT_DIR ?= /var/cache/loopscope/forky
roots: | $(DEPS_STAMP)
	$(Q)tools/make-root.sh $(ROOT_DIR)

test: all $(UNIT_BINS)
	$(Q)tools/make-root.sh $(ROOT_DIR) || true
	$(Q)LOOPSCOPE_ROOT=$(ROOT_DIR) /usr/bin/python3 tests/run.py

demo: all
	$(Q)tests/demo/run-demo.sh

$(OUTPUT)/bench/rate_client: bench/rate_client.c | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LS_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) $< -o $@

bench: all $(OUTPUT)/bench/rate_client
	$(Q)bench/overhead

# The per-version layout tables, regenerated from the installed pyenv Pythons
# (tests/test_layout.py checks that the committed ones regenerate unchanged).
layouts:
	$(Q)tools/gen-layouts.sh agent/cpython

$(OUTPUT)/loopscope.1: $(OUTPUT)/loopscope tools/man-commands.sh
	$(call msg,MAN,$@)
	$(Q)tools/man-commands.sh $(OUTPUT)/loopscope > $(OUTPUT)/commands.h2m
	$(Q)help2man --no-info --name="see what a running async Python process's event loop is doing" \
		--include=$(OUTPUT)/commands.h2m $(OUTPUT)/loopscope > $@

install: $(OUTPUT)/loopscope $(OUTPUT)/loopscope.1
	install -D -m 0755 $(OUTPUT)/loopscope $(DESTDIR)$(PREFIX)/bin/loopscope
	install -D -m 0644 $(OUTPUT)/loopscope.1 $(DESTDIR)$(PREFIX)/share/man/man1/loopscope.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/loopscope $(DESTDIR)$(PREFIX)/share/man/man1/loopscope.1

clean:
	rm -rf $(OUTPUT)

-include $(OBJS:.o=.d) $(TUI_OBJS:.o=.d)
