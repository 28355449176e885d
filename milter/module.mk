# milter/: consent-milter, the libmilter daemon.
MILTER_SRC := $(wildcard milter/*.c)
$(B)/consent-milter: $(patsubst %.c,$(B)/obj/%.o,$(MILTER_SRC)) $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS_ALL) $(PKG_LIBS)

BINS += $(if $(MILTER_SRC),$(B)/consent-milter)

# Protocol-level checks with miltertest (Lua scripts in tests/miltertest/).
.PHONY: check-miltertest check-e2e demo
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
