# consent-milter — one plain Makefile.
#
# Each component adds its own rules in DIR/module.mk (rewriter, store, gate,
# milter, tests). This file holds the toolchain, the dependency check, the
# generic compile rule and the umbrella targets. Overridable: CC CFLAGS
# CPPFLAGS LDFLAGS PREFIX SBINDIR UNITDIR DESTDIR B (build directory)
# WERROR=1 (CI) NO_DEPS=1 (skip the dependency installer: package builds,
# where debian/control's Build-Depends say what is needed).

PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
# systemd also reads /usr/local/lib/systemd/system (systemd.unit(5)).
UNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR ?=
CC      ?= cc
PKG_CONFIG ?= pkg-config
B       ?= build
CFLAGS  ?= -O2 -g
CPPFLAGS ?=
LDFLAGS ?=

PKGS = gmime-3.0 libxml-2.0 lmdb libmicrohttpd libsodium inih jansson glib-2.0 zlib

WARN   = -std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
         -Wmissing-prototypes -Wvla
HARDEN = -fstack-protector-strong -D_FORTIFY_SOURCE=2
ifeq ($(WERROR),1)
WARN  += -Werror
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lmilter -lcsv -lpthread
ALL_CFLAGS = $(WARN) $(HARDEN) -D_GNU_SOURCE -I. $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)

# Filled in by the module.mk files.
BINS :=
CHECK_TARGETS :=
BENCH_TARGETS :=
# Each library once, highest layer first (README, "Layers").
LIBS_ALL = $(B)/libpolicy.a $(B)/librw.a $(B)/libstore.a $(B)/libcm.a

.SECONDARY:
.PHONY: all deps programs check check-unit check-asan check-corpus bench fuzz demo install \
    demo-cluster \
    check-install deb check-deb clean format
all: deps-ok-then-build

# Install (as root) or name (otherwise) the Debian packages we need. Runs once
# per package-list change; the stamp lives in the build directory.
$(B)/.deps-ok: contrib/debian-packages.txt contrib/install-deps.sh
	@sh contrib/install-deps.sh
	@mkdir -p $(B) && touch $@
deps: $(B)/.deps-ok
DEPS_OK = $(if $(filter 1,$(NO_DEPS)),,$(B)/.deps-ok)

# Generic compile rule; -MMD keeps header dependencies exact.
$(B)/obj/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

define make_lib
$(B)/$(1): $(patsubst %.c,$(B)/obj/%.o,$(2))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && $$(AR) rcs $$@ $$^
endef

include common/module.mk rewriter/module.mk store/module.mk policy/module.mk pgstore/module.mk \
    gate/module.mk milter/module.mk ctl/module.mk tools/module.mk tests/module.mk \
    bench/module.mk tests/hostile/module.mk
# consent-sync (issue 11), on its own line: it needs pgstore/.
include sync/module.mk

deps-ok-then-build: $(B)/.deps-ok
	@$(MAKE) --no-print-directory build-all

build-all: $(BINS)

# The installed programs only (no test binaries: no Criterion needed).
PROGRAMS = $(filter $(addprefix $(B)/,consent-milter consent-gate consentctl consent-rewrite \
    consent-sync),$(BINS))
programs: $(PROGRAMS)

check: $(B)/.deps-ok
	@$(MAKE) --no-print-directory build-all
	@$(MAKE) --no-print-directory $(CHECK_TARGETS)
	@echo "make check: all suites passed"

# Same suites, AddressSanitizer + UndefinedBehaviorSanitizer, no recovery.
ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
check-asan: $(B)/.deps-ok
	@$(MAKE) --no-print-directory B=build-asan CFLAGS="$(ASAN_FLAGS)" \
	    LDFLAGS="-fsanitize=address,undefined" ASAN=1 build-all
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MAKE) --no-print-directory B=build-asan CFLAGS="$(ASAN_FLAGS)" \
	    LDFLAGS="-fsanitize=address,undefined" ASAN=1 $(CHECK_TARGETS)
	@echo "make check-asan: all suites passed under ASan+UBSan"

# Each bench in turn, its output printed and put in bench/REPORT.md
# (bench/report.sh: the machine, then a section per bench, the goals at the
# top); a failing bench does not stop the others, but fails make bench.
bench: $(B)/.deps-ok
	@$(MAKE) --no-print-directory build-all
	@sh bench/report.sh begin bench/REPORT.md "$(foreach v,STORE_BENCH_N SYNC_BENCH_N \
	    SYNC_BENCH_CHANGES BENCH_CG_N,$(v)=$($(v)))"
	@rc=0; for t in $(BENCH_TARGETS); do \
	    BENCH_REPORT=$(CURDIR)/bench/REPORT.md sh bench/report.sh run $$t \
	        $(MAKE) --no-print-directory $$t || rc=1; \
	done; sh bench/report.sh end bench/REPORT.md; exit $$rc

# Daemons to sbin, tools to bin, man pages, the systemd units (their paths
# made to match SBINDIR) and the example configuration (rules, footers,
# pages) to $(PREFIX)/share/consent-milter: copy them to
# /etc/consent-milter/ and edit (README, "Install on a mail server").
SHARE = $(DESTDIR)$(PREFIX)/share/consent-milter
UNITS = $(wildcard contrib/systemd/*.service)
install: programs $(if $(wildcard gate/module.mk),install-gate)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PREFIX)/bin $(SHARE)/conf $(SHARE)/grafana \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(B)/consent-milter $(B)/consent-gate $(B)/consent-sync $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(B)/consentctl $(B)/consent-rewrite $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 conf/example.conf conf/trackers.rules conf/footer-* conf/request-* \
	    $(SHARE)/conf/
	install -m 0644 contrib/grafana/consent-milter.json $(SHARE)/grafana/
	install -m 0644 doc/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 doc/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 doc/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	for u in $(UNITS); do \
	    sed 's,/usr/local/sbin/,$(SBINDIR)/,g' $$u >$(DESTDIR)$(UNITDIR)/$${u##*/} && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; done

# make install's units name the programs it installs (systemd-analyze verify).
CHECK_TARGETS += check-install
check-install: programs
	@B=$(B) sh tests/deb/install.sh

# Debian packages (debian/) into $(B)/deb/, built from a copy of the tree
# under /tmp (dpkg-buildpackage writes next to the source directory).
deb: $(B)/.deps-ok
	@B=$(B) sh contrib/make-deb.sh

# Build, lint, install, run, send mail through, purge (root; installs
# system packages, so not part of make check: .ci/run runs it).
check-deb: deb
	@B=$(B) bash tests/deb/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
