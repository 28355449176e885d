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
