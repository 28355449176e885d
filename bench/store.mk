# bench/store.mk: consent store benchmark (included from store/module.mk).
# `make bench` runs bench-store: import 1M generated records, then 9M more
# (10M total, timed), then lookups on the 10M-recipient store against a bare
# mdb_get, and store size per recipient. Works in a temporary directory
# under /tmp (about 6 GB at peak) that is removed at the end.
# STORE_BENCH_N=1000000 gives a quicker run (1M recipients); STORE_BENCH_BATCH
# sets consentctl import --batch (1000000: fewer, larger commits, ~700 MB of
# rows in memory; the consentctl default is 100000).
STORE_BENCH_N ?= 10000000
STORE_BENCH_SAMPLES ?= 1000000
STORE_BENCH_BATCH ?= 1000000

$(B)/store_bench: $(B)/obj/bench/store_bench.o $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)

BENCH_TARGETS += bench-store

bench-store: $(B)/store_bench $(B)/consentctl
	@sh bench/store_bench.sh $(B) $(STORE_BENCH_N) $(STORE_BENCH_SAMPLES) $(STORE_BENCH_BATCH)
