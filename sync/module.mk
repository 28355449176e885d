# sync/: consent-sync, the daemon that feeds a host's LMDB replica from the
# PostgreSQL primary (layer 4 in README "Layers": a program on pgstore,
# store, policy and common).
SYNC_SRC := $(wildcard sync/*.c)
# libpq for the programs that link libpgstore.a (the gate too); a repeat
# of what pgstore/module.mk may add to PKG_LIBS is harmless.
PQ_LIBS ?= $(shell $(PKG_CONFIG) --libs libpq 2>/dev/null)
$(B)/consent-sync: $(patsubst %.c,$(B)/obj/%.o,$(SYNC_SRC)) $(B)/libpgstore.a $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libpgstore.a $(LIBS_ALL) $(PKG_LIBS) $(PQ_LIBS)

BINS += $(B)/consent-sync

# Replication against a private PostgreSQL 15 (tests/sync/run.sh): two
# replicas, two consent-sync, two gates; catch-up, primary down, tamper,
# erase, bad input. E2E_REQUIRE=1 makes a missing PostgreSQL a failure.
.PHONY: check-sync check-sync-replica demo-cluster check-demo-cluster
CHECK_TARGETS += check-sync-replica check-sync check-demo-cluster
# consent-sync alone (no gate): follow, catch up, tamper (tests/sync/replica.sh).
check-sync-replica: $(B)/consent-sync $(B)/consentctl
	@B=$(B) bash tests/sync/replica.sh
check-sync: $(B)/consent-sync $(B)/consent-gate $(B)/consentctl $(B)/consent-rewrite
	@B=$(B) bash tests/sync/run.sh

# A private PostgreSQL, two relays and two gates on loopback; a withdrawal
# made on one gate reaches every relay (contrib/demo-cluster.sh).
demo-cluster: $(B)/consent-sync $(B)/consent-gate $(B)/consentctl $(B)/consent-rewrite
	@B=$(B) bash contrib/demo-cluster.sh
check-demo-cluster: $(B)/consent-sync $(B)/consent-gate $(B)/consentctl $(B)/consent-rewrite
	@B=$(B) bash tests/sync/demo.sh

-include bench/sync.mk
-include tests/e2e/soak.mk
