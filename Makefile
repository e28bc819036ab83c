# loopscope: see README.md. `make` builds build/loopscope, `make test` runs
# every test, `make deps` installs the Debian packages both need.

OUTPUT   := build
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
CLANG    ?= clang
CC       ?= gcc
BPFTOOL  ?= bpftool
LLVM_STRIP ?= llvm-strip
PKGS_LIBS := libbpf jansson libuv ncursesw

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
            -I$(OUTPUT) -Iagent -Iagent/cpython -Ibpf
LDLIBS   += -lbpf -ldw -lelf -lz -ljansson -luv -lncursesw -lm

# Debian packages for building, testing, the demo and the benchmarks.
DEB_PKGS := make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
            libuv1-dev libjansson-dev libncurses-dev libdw-dev pkg-config linux-libc-dev \
            python3 python3-aiohttp python3-uvloop python3.11-dbg nodejs wrk tmux

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

AGENT_SRCS := $(wildcard agent/*.c agent/cpython/*.c)
TUI_SRCS   := $(wildcard tui/*.c)
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
SKELS      := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
OBJS       := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(AGENT_SRCS) $(TUI_SRCS))
DEPS_STAMP := $(OUTPUT)/.deps-checked

.PHONY: all deps test demo bench clean
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
	$(Q)$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Ibpf -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

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

$(OUTPUT)/obj/%.o: %.c $(SKELS) $(OUTPUT)/syscall_names.h | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/loopscope: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

test: all
	$(Q)/usr/bin/python3 tests/run.py

demo: all
	$(Q)tests/demo/run-demo.sh

bench: all
	$(Q)bench/overhead

clean:
	rm -rf $(OUTPUT)

-include $(OBJS:.o=.d)
