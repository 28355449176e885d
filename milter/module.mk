# milter/: consent-milter, the libmilter daemon: the library libmlt.a
# (callbacks, per-message state, decisions) and main.c. Its unit tests are
# tests/unit/test_milter.c, linked with libmlt.a.
MILTER_LIB_SRC := $(filter-out milter/main.c,$(wildcard milter/*.c))
$(eval $(call make_lib,libmlt.a,$(MILTER_LIB_SRC)))
$(B)/consent-milter: $(B)/obj/milter/main.o $(B)/libmlt.a $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libmlt.a $(LIBS_ALL) $(PKG_LIBS)

BINS += $(B)/consent-milter
.PHONY: check-miltertest check-e2e demo

# Every configuration key of policy/cfg*.c's table is documented in
# consent-milter.conf(5) and listed in conf/example.conf.
.PHONY: check-milter-doc
CHECK_TARGETS += check-milter-doc
check-milter-doc:
	@keys=$$(cat policy/cfg*.c | grep -Eo '^ *\{"(milter|gate|store|domain)", "[a-z_]+"' | \
	    cut -d'"' -f4 | sort -u); n=0; bad=0; \
	for k in $$keys; do n=$$((n + 1)); \
	    grep -Eq "^\.BR? (.*\" )?$$k( |\$$)" doc/consent-milter.conf.5 || \
	        { echo "not documented in consent-milter.conf(5): $$k"; bad=$$((bad + 1)); }; \
	    grep -q "^;*$$k *=" conf/example.conf || \
	        { echo "not in conf/example.conf: $$k"; bad=$$((bad + 1)); }; \
	done; [ $$n -gt 30 ] || { echo "key table not found in policy/cfg*.c"; bad=$$((bad + 1)); }; \
	echo "config keys documented: $$((2 * n - bad)) passed, $$bad failed"; [ $$bad -eq 0 ]

# Protocol-level checks with miltertest (Lua scripts in tests/miltertest/).
CHECK_TARGETS += check-miltertest
check-miltertest: $(B)/consent-milter $(B)/consentctl
	@B=$(B) bash tests/miltertest/run.sh

# End to end through a real Postfix on loopback (root; Postfix, swaks).
CHECK_TARGETS += check-e2e
check-e2e: $(B)/consent-milter $(B)/consentctl \
    $(B)/consent-gate
	@B=$(B) bash tests/e2e/run.sh

# End to end through a real Sendmail 8.17 unpacked from Debian's .debs
# (fetched with apt-get download into $(B)/sendmail/), configured with the
# shipped contrib/sendmail/consent-milter.mc.
.PHONY: check-sendmail
CHECK_TARGETS += check-sendmail
check-sendmail: $(B)/consent-milter $(B)/consentctl
	@B=$(B) bash tests/sendmail/run.sh

# make demo: a private Postfix, consent-milter, smtp-sink and a two-recipient
# store; sends the samples and shows what was delivered.
demo: build-all
	@B=$(B) bash contrib/demo.sh

include bench/milter.mk
