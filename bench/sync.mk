# bench/sync.mk: replication benchmark (included from sync/module.mk).
# `make bench` runs bench-sync (bench/sync.sh): propagation p50/p99 over
# SYNC_BENCH_CHANGES gate POSTs to a relay's replica, an import of
# SYNC_BENCH_N records through PostgreSQL, consent-sync's apply rate into
# an empty replica, and replica lookups against a bare mdb_get. Needs root
# and postgresql-15 (a private server in /tmp). SYNC_BENCH_N=10000000 for
# the issue's 10M import (about 6 GB of replica at peak).
SYNC_BENCH_N ?= 1000000
SYNC_BENCH_CHANGES ?= 1000

$(B)/sync_watch: $(B)/obj/bench/sync_watch.o $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)

BENCH_TARGETS += bench-sync
.PHONY: bench-sync
bench-sync: $(B)/sync_watch $(B)/store_bench $(B)/consent-sync $(B)/consent-gate $(B)/consentctl
	@B=$(B) SYNC_BENCH_N=$(SYNC_BENCH_N) SYNC_BENCH_CHANGES=$(SYNC_BENCH_CHANGES) bash bench/sync.sh
