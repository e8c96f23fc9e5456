# SPDX-License-Identifier: Apache-2.0
# glimpse build. `make` builds build/glimpse; `make test` and `make demo` install what is
# missing first (scripts/install-deps.sh). V=1 shows full commands.

ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# SANITIZE=1: everything built with ASan+UBSan into its own tree; `make test SANITIZE=1` runs the
# unit tests and the agent e2e tests on it (the target apps are not the code under test: they
# come from the normal build).
ifeq ($(SANITIZE),1)
BUILD ?= build-san
APPS ?= $(abspath build)/apps
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
BUILD ?= build
endif
APPS ?= $(abspath $(BUILD))/apps
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PROTOC_C ?= protoc-c
PPROF_PROTO ?= /usr/share/gocode/src/github.com/google/pprof/proto/profile.proto

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# The one version string: `glimpse --version`, the image tag and the chart's appVersion
# (tests/e2e/test_cli.py checks the chart against it).
VERSION := $(shell cat VERSION)

PKGS := libbpf libelf libdw zlib libprotobuf-c capstone libmicrohttpd libcurl yaml-0.1
# CFLAGS and LDFLAGS are the user's (`make CFLAGS='-O1 -fsanitize=address'`): the project's own
# flags are appended with override, so a user's flags add to them instead of replacing them.
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -MMD -MP -I$(BUILD) -I$(BUILD)/gen -Iuser -Ibpf \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override CFLAGS += $(SAN_FLAGS)
override LDFLAGS += $(SAN_FLAGS)
# capstone and libcurl are dlopen'ed (user/binfmt/disasm.c, user/export/curl_lib.c): compiled
# against, not linked.
override LDLIBS += $(shell pkg-config --libs $(filter-out capstone libcurl,$(PKGS)) 2>/dev/null) -lm -lpthread -ldl
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Ivmlinux/$(ARCH) -Ibpf

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
# OTLP messages from our own minimal .proto files (user/export/proto), generated into build/gen/otlp;
# code includes them as "otlp/trace.pb-c.h".
OTLP_PROTOS := $(wildcard user/export/proto/*.proto)
OTLP_GEN_C := $(patsubst user/export/proto/%.proto,$(BUILD)/gen/otlp/%.pb-c.c,$(OTLP_PROTOS))
OTLP_GEN_H := $(OTLP_GEN_C:.c=.h)
OTLP_GEN_OBJS := $(OTLP_GEN_C:.c=.o)
PROTO_GEN := $(BUILD)/gen/profile.pb-c.c $(OTLP_GEN_H)
USER_SRCS := $(shell find user -name '*.c' | sort)
# The dashboard's page, script and style (user/export/dashboard) as C arrays, linked in.
DASH_ASSETS := $(sort $(wildcard user/export/dashboard/*))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS)) $(BUILD)/gen/profile.pb-c.o \
	$(OTLP_GEN_OBJS) $(BUILD)/gen/dashboard_assets.o
LIB_OBJS := $(filter-out $(BUILD)/user/cli/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
# Test helpers (OTLP receiver and driver), linked like the unit tests.
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
# The OTLP profiles receiver is a Go module (it decodes with the official generated messages and
# the Collector's decoder); `make deps` downloads its modules.
GO_TOOL_DIRS := $(patsubst %/go.mod,%,$(wildcard tests/tools/*/go.mod))
GO_TOOLS := $(patsubst tests/tools/%,$(BUILD)/tools/%,$(GO_TOOL_DIRS))
TOOLS_GO := GO111MODULE=on GOFLAGS=-mod=readonly GOTOOLCHAIN=local /usr/local/go/bin/go

.SECONDARY:
# A recipe that fails leaves no half-written target behind for the next make to trust.
.DELETE_ON_ERROR:

ifeq ($(wildcard vmlinux/$(ARCH)/vmlinux.h),)
$(error no vmlinux/$(ARCH)/vmlinux.h: glimpse's BPF programs are built for x86 (vmlinux/x86) only; \
	on another architecture generate it with `bpftool btf dump file /sys/kernel/btf/vmlinux format c`)
endif
.PHONY: all deps test unit e2e e2e-san demo bench-profile bench-http bench-sched fuzz fuzz-smoke clean apps \
	tools format format-check
.DEFAULT_GOAL := all
# The Go test tool is left to `make tools` and the e2e tests: building glimpse needs no Go.
all: $(BUILD)/glimpse $(TOOLS)

deps:
	$(Q)scripts/install-deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/profile.pb-c.c $(BUILD)/gen/profile.pb-c.h: $(PPROF_PROTO) | $(BUILD)/gen
	$(call msg,PROTOC,$@)
	$(Q)$(PROTOC_C) --c_out=$(BUILD)/gen -I$(dir $(PPROF_PROTO)) $(notdir $(PPROF_PROTO))

# protoc-c makes the .c and the .h in one run (a pattern rule with two targets).
$(BUILD)/gen/otlp/%.pb-c.c $(BUILD)/gen/otlp/%.pb-c.h: user/export/proto/%.proto | $(BUILD)/gen/otlp
	$(call msg,PROTOC,$@)
	$(Q)$(PROTOC_C) --c_out=$(BUILD)/gen/otlp -Iuser/export/proto $<

# Generated files include the headers of the .proto files they import.
$(OTLP_GEN_OBJS): | $(OTLP_GEN_H)

# xxd -i names each array after its file (index.html -> index_html); made const so they stay
# in read-only memory. xxd rather than `ld -b binary`: plain C, so sanitizer builds and the
# stack-note rules apply unchanged and the symbol names do not depend on the build path.
$(BUILD)/gen/dashboard_assets.c: $(DASH_ASSETS) | $(BUILD)/gen
	$(call msg,XXD,$@)
	$(Q)(cd user/export/dashboard && for f in $(notdir $(DASH_ASSETS)); do xxd -i $$f; done) | \
		sed 's/^unsigned /const unsigned /' > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter -c $< -o $@

# The one version string, from the VERSION file: --version, OTLP's service.version and User-Agent.
$(USER_OBJS): override CFLAGS += -DGLIMPSE_VERSION='"$(VERSION)"'
$(USER_OBJS): VERSION

# Every user object may include a skeleton or generated header: build those first.
$(BUILD)/user/%.o: user/%.c | $(SKELS) $(PROTO_GEN)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/glimpse: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/tests
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -lcmocka -o $@

tools: $(TOOLS) $(GO_TOOLS)

$(BUILD)/tools/%: tests/tools/%/go.mod tests/tools/%/go.sum tests/tools/%/*.go | $(BUILD)/tools
	$(call msg,TOOL-GO,$@)
	$(Q)cd tests/tools/$* && $(TOOLS_GO) build -o $(abspath $@) .

$(BUILD)/tools/%: tests/tools/%.c $(LIB_OBJS) | $(BUILD)/tools
	$(call msg,TOOL-CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

$(BUILD)/bpf $(BUILD)/user $(BUILD)/gen $(BUILD)/gen/otlp $(BUILD)/tests $(BUILD)/tools:
	$(Q)mkdir -p $@

apps:
	$(Q)$(MAKE) -s -C tests/apps BUILD=$(APPS)

# Sanitizer reports go to files in $(SAN_LOGS) (whoever runs the program, and whatever it does
# with its stderr), and a report fails the run; scripts/check-sanitizer-logs.sh says which.
SAN_LOGS := $(abspath $(BUILD))/san-logs
SAN_ENV := $(if $(SAN_FLAGS),ASAN_OPTIONS=log_path=$(SAN_LOGS)/asan:abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$(SAN_LOGS)/ubsan:print_stacktrace=1:halt_on_error=1)
SAN_PREP := $(if $(SAN_FLAGS),rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS) &&)
SAN_CHECK := $(if $(SAN_FLAGS),&& scripts/check-sanitizer-logs.sh $(SAN_LOGS))

unit: $(UNIT_BINS) apps
	$(Q)$(SAN_PREP) $(SAN_ENV) GLIMPSE_APPS=$(APPS) scripts/run-unit-tests.sh $(UNIT_BINS) $(SAN_CHECK)

e2e: all apps tools
	$(Q)GLIMPSE=$(abspath $(BUILD))/glimpse APPS=$(APPS) \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e

# The agent e2e tests on the sanitized build.
e2e-san: all apps
	$(Q)$(SAN_PREP) $(SAN_ENV) GLIMPSE=$(abspath $(BUILD))/glimpse APPS=$(APPS) \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_agent.py $(SAN_CHECK)

# Every C source of the project, new files included (vmlinux.h and generated files aside), in
# .clang-format's style.
FORMAT_SRCS = $(shell git ls-files --cached --others --exclude-standard -- '*.c' '*.h' | grep -v '^vmlinux/')
format:
	$(Q)clang-format -i $(FORMAT_SRCS)

format-check:
	$(call msg,FORMAT,check)
	$(Q)clang-format --dry-run -Werror $(FORMAT_SRCS) || \
		{ echo "format-check: run 'make format' and commit the result" >&2; exit 1; }

ifeq ($(SANITIZE),1)
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory e2e-san
else
test: deps
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)$(MAKE) --no-print-directory e2e
endif

demo: deps
	$(Q)$(MAKE) --no-print-directory all apps
	$(Q)scripts/demo.sh $(abspath $(BUILD))

bench-profile: deps
	$(Q)$(MAKE) --no-print-directory all apps
	$(Q)scripts/bench-profile.sh $(abspath $(BUILD))

bench-http: deps
	$(Q)$(MAKE) --no-print-directory all apps $(BUILD)/tools/syscall_floor
	$(Q)scripts/bench-http.sh $(abspath $(BUILD))
	$(Q)if [ "$(BENCH_FRAMEWORKS)" != 0 ]; then scripts/bench-frameworks.sh $(abspath $(BUILD)); fi
	$(Q)scripts/bench-proto.sh $(abspath $(BUILD))

bench-sched: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench/sched_driver
	$(Q)scripts/bench-sched.sh $(abspath $(BUILD))

# glimpse's scheduler tracking for every process, alone: what bench-sched measures.
$(BUILD)/bench/sched_driver: tests/bench/sched_driver.c $(LIB_OBJS)
	$(call msg,BENCH-CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

# Builds every fuzzer and runs each FUZZ_TIME seconds (tests/fuzz/Makefile; default 15).
fuzz:
	$(Q)$(MAKE) --no-print-directory -f tests/fuzz/Makefile BUILD=$(abspath $(BUILD)) APPS=$(APPS)

# What `make test` runs: every fuzzer, briefly.
fuzz-smoke:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_TIME=8

clean:
	$(Q)rm -rf $(BUILD)

-include $(shell find $(BUILD)/user -name '*.d' 2>/dev/null) $(wildcard $(BUILD)/bpf/*.d $(BUILD)/tests/*.d $(BUILD)/gen/otlp/*.d \
	$(BUILD)/tools/*.d)
