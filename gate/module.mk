# gate/: consent-gate, the HTTP service (libmicrohttpd): the library
# libgate.a (handlers, replies, templates) and main.c, which the unit tests
# do without.
GATE_LIB_SRC := $(filter-out gate/main.c,$(wildcard gate/*.c))
$(eval $(call make_lib,libgate.a,$(GATE_LIB_SRC)))
GATE_PAGES_DIR ?= $(PREFIX)/share/consent-milter/pages
$(B)/obj/gate/main.o: EXTRA_CFLAGS += -DGATE_PAGES_DIR='"$(GATE_PAGES_DIR)"'

# libpgstore.a: the primary ([store] backend = postgresql, gate/primary.c).
$(B)/consent-gate: $(B)/obj/gate/main.o $(B)/libgate.a $(B)/libpgstore.a $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libgate.a $(B)/libpgstore.a $(LIBS_ALL) $(PKG_LIBS) \
	    $(PQ_LIBS)

BINS += $(B)/consent-gate

# HTTP tests (curl) and browser tests (playwright-core + Debian chromium)
# against a real gate on loopback with a temporary store and keys.
.PHONY: check-gate check-gate-http check-gate-browser install-gate
CHECK_TARGETS += check-gate
check-gate: check-gate-http check-gate-browser

check-gate-http: $(B)/consent-gate $(B)/consentctl
	@B=$(B) bash tests/gate/http.sh && B=$(B) bash tests/gate/domains.sh && B=$(B) bash tests/gate/langs.sh

# playwright-core from the npm registry, installed once into
# tests/gate/node_modules (gitignored); the browser is Debian's chromium.
tests/gate/node_modules/playwright-core/package.json: tests/gate/package.json tests/gate/package-lock.json
	cd tests/gate && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

check-gate-browser: $(B)/consent-gate $(B)/consentctl tests/gate/node_modules/playwright-core/package.json
	@B=$(B) bash tests/gate/browser.sh

# Every language directory of conf/pages: the languages are what exists.
install-gate:
	install -d $(DESTDIR)$(GATE_PAGES_DIR)
	install -m 0644 conf/pages/gate.css conf/pages/notfound.html $(DESTDIR)$(GATE_PAGES_DIR)/
	@set -e; for l in conf/pages/*/; do l=$${l%/}; l=$${l##*/}; \
	    echo "install conf/pages/$$l/* $(DESTDIR)$(GATE_PAGES_DIR)/$$l/"; \
	    install -d $(DESTDIR)$(GATE_PAGES_DIR)/$$l; \
	    install -m 0644 conf/pages/$$l/* $(DESTDIR)$(GATE_PAGES_DIR)/$$l/; done
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 doc/consent-gate.8 $(DESTDIR)$(PREFIX)/share/man/man8/

-include bench/gate.mk
