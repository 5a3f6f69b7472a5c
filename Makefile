# dmakit: library, CLI, tests, kernel driver.
#
#   make                 build/lib/libdmakit.{so,a}, build/bin/dmakit, build/dmakit.pc,
#                        build/examples/* (examples/*.c)
#   make static          build/bin/dmakit-static (no shared libraries: for VMs)
#   make san             the same with ASan+UBSan into build-san/ (what tests use)
#   make check           host test suite (sanitizer build)
#   make check-vm        kernel driver suite in QEMU (KERNEL=stock|stock-6.1|stock-6.12|debug|all)
#   make check-all       both
#   make demo            record 2 GiB from the simulated card and verify it
#   make driver          dmakit.ko against the installed kernel headers
#   make install PREFIX=/usr/local [LIBDIR=$(PREFIX)/lib] [DESTDIR=]
#                [MANDIR=$(PREFIX)/share/man]
#                [BASHCOMPDIR=$(PREFIX)/share/bash-completion/completions]
#                [PYTHONDIR=...]  the Python package (python/dmakit): where
#                Debian's python3 looks: /usr/lib/python3/dist-packages for
#                PREFIX=/usr, else $(PREFIX)/lib/python3.X/dist-packages
#   make uninstall       the same variables: removes what install put there
#
# Man pages (build/man/: dmakit.1, dmakit-COMMAND.1, libdmakit.3) and the
# bash completion (build/man/dmakit.bash) are generated from the CLI's own
# --help and the public headers by scripts/gen-cli-docs.py (needs python3).

VERSION   := 0.1.0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PYTHON3   ?= python3
PYTHONDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(shell $(PYTHON3) -c 'import sys; print("%d.%d" % sys.version_info[:2])')/dist-packages)
PY_SRCS   := $(notdir $(wildcard python/dmakit/*.py))
BUILD     ?= build
CC        ?= gcc
SANITIZE  ?= 0

PKG_LIBS  := liburing libtracefs libtraceevent libbpf
PKG_CFLAGS := $(shell pkg-config --cflags $(PKG_LIBS) 2>/dev/null)
PKG_LDLIBS := $(shell pkg-config --libs $(PKG_LIBS) 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla
CFLAGS    ?= -O2 -g
CPPFLAGS  += -Iinclude -Iinclude/uapi -Ilib -Itests/lib $(PKG_CFLAGS)
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden \
              -MMD -MP
LDLIBS    := $(PKG_LDLIBS) -lpthread -lm
ifeq ($(SANITIZE),1)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
  ALL_CFLAGS += $(SANFLAGS) -O1
  LDFLAGS  += $(SANFLAGS)
endif

LIB_SRCS  := $(sort $(wildcard lib/*.c lib/*/*.c))
TOOL_SRCS := $(sort $(wildcard tools/*.c))
TEST_SRCS := $(sort $(wildcard tests/unit/*.c))
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)
TESTLIB_SRCS := $(sort $(wildcard tests/lib/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(BUILD)/obj/%.o)

LIBSO     := $(BUILD)/lib/libdmakit.so
LIBA      := $(BUILD)/lib/libdmakit.a
CLI       := $(BUILD)/bin/dmakit
PC        := $(BUILD)/dmakit.pc
MAN_STAMP := $(BUILD)/man/.generated
PUBLIC_HEADERS := include/dmakit.h $(sort $(wildcard include/dmakit/*.h))

.PHONY: all san static tests check check-busy check-vm check-all demo driver install \
        uninstall clean bench format-check checkpatch
all: $(LIBSO) $(LIBA) $(CLI) $(PC) $(EXAMPLE_BINS) $(MAN_STAMP)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

# The BPF backend's program (lib/trace/bpf/*.bpf.c): compiled by clang
# against a vmlinux.h that bpftool writes from the build machine's BTF
# (CO-RE: libbpf relocates the program for the kernel it runs on), then
# embedded in the library as a bpftool skeleton.
CLANG       ?= clang
BPFTOOL     ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
BPF_ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_DIR     := $(BUILD)/bpf
BPF_SRCS    := $(sort $(wildcard lib/trace/bpf/*.bpf.c))
BPF_SKELS   := $(BPF_SRCS:lib/trace/bpf/%.bpf.c=$(BPF_DIR)/%.skel.h)
CPPFLAGS    += -I$(BPF_DIR)

$(BPF_DIR)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp
	mv $@.tmp $@

$(BPF_DIR)/%.bpf.o: lib/trace/bpf/%.bpf.c lib/trace/bpf/trace_bpf.h $(BPF_DIR)/vmlinux.h
	$(CLANG) -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -g -O2 -Wall -Werror \
	  -I$(BPF_DIR) -Ilib/trace/bpf -c $< -o $@

$(BPF_DIR)/%.skel.h: $(BPF_DIR)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@.tmp
	mv $@.tmp $@

$(BUILD)/obj/lib/trace/bpf.o: $(BPF_SKELS)
.SECONDARY: $(BPF_SRCS:lib/trace/bpf/%.bpf.c=$(BPF_DIR)/%.bpf.o)

$(LIBSO): $(LIB_OBJS) lib/libdmakit.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libdmakit.so.0 -Wl,-z,defs \
	  -Wl,--version-script=lib/libdmakit.map $(LDFLAGS) \
	  -o $@.$(VERSION) $(LIB_OBJS) $(LDLIBS)
	ln -sf libdmakit.so.$(VERSION) $@.0
	ln -sf libdmakit.so.$(VERSION) $@

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# The CLI links the static library so it runs from the build tree.
$(CLI): $(TOOL_OBJS) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(LIBA) $(LDLIBS)

# A fully static CLI for initramfs guests.  The linker warns that
# libtraceevent's plugin loader uses dlopen: dmakit never loads plugins.
STATIC_CLI := $(BUILD)/bin/dmakit-static
static: $(STATIC_CLI)
$(STATIC_CLI): $(TOOL_OBJS) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) -static $(LDFLAGS) -o $@ $(TOOL_OBJS) $(LIBA) \
	  $(shell pkg-config --static --libs $(PKG_LIBS) 2>/dev/null) -lpthread -lm

# The pkg-config file names where the library is installed: made again on
# every build so a PREFIX or LIBDIR given to `make install` is the one in it.
PC_SED := -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
          -e 's|@VERSION@|$(VERSION)|' -e 's|@PRIVATE@|$(PKG_LIBS)|'
$(PC): dmakit.pc.in FORCE
	@mkdir -p $(dir $@)
	@sed $(PC_SED) $< > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

# Man pages and completion from the CLI's --help: they cannot drift from it.
$(MAN_STAMP): $(CLI) scripts/gen-cli-docs.py $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	python3 scripts/gen-cli-docs.py $(CLI) $(VERSION) $(dir $@) $(PUBLIC_HEADERS)
	@touch $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TESTLIB_OBJS) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TESTLIB_OBJS) $(LIBA) $(LDLIBS)

# Examples use the public headers only, like a user's program.
$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

tests: all $(TEST_BINS)

san:
	$(MAKE) BUILD=build-san SANITIZE=1 tests

check: all san static
	tests/run.sh

# the host suite 5 times beside a CPU hog per CPU (issue 18: no stopwatch bounds)
check-busy: all san static
	tests/busy.sh $(or $(RUNS),5)

check-vm: all
	$(MAKE) -C tests/vm check KERNEL=$(or $(KERNEL),all)

check-all: check check-vm

demo: all
	scripts/demo.sh

driver:
	$(MAKE) -C driver

bench: all
	bench/run-all.sh

INSTALLED_HEADERS := $(notdir $(wildcard include/uapi/dmakit/*.h include/dmakit/*.h))

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/include/dmakit $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 $(LIBA) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIBSO).$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libdmakit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libdmakit.so.0
	ln -sf libdmakit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libdmakit.so
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 include/dmakit.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/uapi/dmakit/*.h $(wildcard include/dmakit/*.h) \
	  $(DESTDIR)$(PREFIX)/include/dmakit/
	install -m 644 $(PC) $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	  $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 $(BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(BUILD)/man/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 $(BUILD)/man/dmakit.bash $(DESTDIR)$(BASHCOMPDIR)/dmakit
	install -d $(DESTDIR)$(PYTHONDIR)/dmakit
	install -m 644 $(addprefix python/dmakit/,$(PY_SRCS)) $(DESTDIR)$(PYTHONDIR)/dmakit/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libdmakit.a $(DESTDIR)$(LIBDIR)/libdmakit.so \
	  $(DESTDIR)$(LIBDIR)/libdmakit.so.0 $(DESTDIR)$(LIBDIR)/libdmakit.so.$(VERSION) \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/dmakit.pc $(DESTDIR)$(PREFIX)/bin/dmakit \
	  $(DESTDIR)$(PREFIX)/include/dmakit.h \
	  $(addprefix $(DESTDIR)$(PREFIX)/include/dmakit/,$(INSTALLED_HEADERS)) \
	  $(DESTDIR)$(MANDIR)/man1/dmakit.1 $(DESTDIR)$(MANDIR)/man1/dmakit-*.1 \
	  $(DESTDIR)$(MANDIR)/man3/libdmakit.3 $(DESTDIR)$(BASHCOMPDIR)/dmakit
	rm -f $(addprefix $(DESTDIR)$(PYTHONDIR)/dmakit/,$(PY_SRCS))
	rm -rf $(DESTDIR)$(PYTHONDIR)/dmakit/__pycache__
	-rmdir $(DESTDIR)$(PREFIX)/include/dmakit 2>/dev/null
	-rmdir $(DESTDIR)$(PYTHONDIR)/dmakit 2>/dev/null

FORCE:

clean:
	rm -rf build build-san
	-$(MAKE) -C driver clean

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
