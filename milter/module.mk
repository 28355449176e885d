# milter/: consent-milter, the libmilter daemon.
MILTER_SRC := $(wildcard milter/*.c)
$(B)/consent-milter: $(patsubst %.c,$(B)/obj/%.o,$(MILTER_SRC)) $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS_ALL) $(PKG_LIBS)

BINS += $(if $(MILTER_SRC),$(B)/consent-milter)

# Criterion unit tests of the milter's pure parts, linked with its objects.
.PHONY: check-milter-unit check-miltertest check-e2e demo
MILTER_TEST_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(filter-out milter/main.c,$(MILTER_SRC)))
$(B)/tests/milter-unit: $(B)/obj/milter/t/test_milter.o $(MILTER_TEST_OBJ) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS_ALL) \
	    $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null) $(PKG_LIBS)

CHECK_TARGETS += check-milter-unit
check-milter-unit: $(B)/tests/milter-unit
	@echo "== $<"; $< --jobs 2 --short-filename

# Every configuration key of common/cfg*.c's table is documented in
# consent-milter.conf(5) and listed in conf/example.conf.
.PHONY: check-milter-doc
CHECK_TARGETS += check-milter-doc
check-milter-doc:
	@keys=$$(cat common/cfg*.c | grep -Eo '^ *\{"(milter|gate|domain)", "[a-z_]+"' | \
	    cut -d'"' -f4 | sort -u); n=0; bad=0; \
	for k in $$keys; do n=$$((n + 1)); \
	    grep -Eq "^\.BR? (.*\" )?$$k( |\$$)" doc/consent-milter.conf.5 || \
	        { echo "not documented in consent-milter.conf(5): $$k"; bad=$$((bad + 1)); }; \
	    grep -q "^;*$$k *=" conf/example.conf || \
	        { echo "not in conf/example.conf: $$k"; bad=$$((bad + 1)); }; \
	done; [ $$n -gt 30 ] || { echo "key table not found in common/cfg*.c"; bad=$$((bad + 1)); }; \
	echo "config keys documented: $$((2 * n - bad)) passed, $$bad failed"; [ $$bad -eq 0 ]

# Protocol-level checks with miltertest (Lua scripts in tests/miltertest/).
CHECK_TARGETS += check-miltertest
check-miltertest: $(B)/consent-milter $(if $(wildcard store/consentctl.c),$(B)/consentctl)
	@B=$(B) bash tests/miltertest/run.sh

# End to end through a real Postfix on loopback (root; Postfix, swaks).
CHECK_TARGETS += check-e2e
check-e2e: $(B)/consent-milter $(if $(wildcard store/consentctl.c),$(B)/consentctl) \
    $(if $(wildcard gate/*.c),$(B)/consent-gate)
	@B=$(B) bash tests/e2e/run.sh

# make demo: a private Postfix, consent-milter, smtp-sink and a two-recipient
# store; sends the samples and shows what was delivered.
demo: build-all
	@B=$(B) bash contrib/demo.sh

include bench/milter.mk
