# bench/milter.mk: consent-milter behind a real Postfix (SPEC §7), included
# from milter/module.mk. One run compares four setups with smtp-source
# (1,000 reference newsletters, 10 sessions): no milter, a no-op milter,
# consent-milter, and the split layout; prints throughput ratios and the
# milter's RSS (start, middle, end, peak); then (issue 13) the milter's
# CPU per message over the no-op's against a bare SAX parse (bench-rewrite),
# the same throughput with the milters pinned to one core (taskset), and
# the latency added per message, p50/p99/max. Needs root (Postfix).
# BENCH_LOCK: a command prefix for this bench, which starts Postfix, e.g.
# "flock /tmp/consent-e2e.lock" where other Postfix suites run beside it.
BENCH_LOCK ?=
$(B)/bench-noop-milter: $(B)/obj/bench/noop_milter.o
	$(CC) $(ALL_LDFLAGS) -o $@ $< -lmilter -lpthread

.PHONY: bench-milter
BENCH_TARGETS += bench-milter
bench-milter: $(B)/consent-milter $(B)/bench-noop-milter $(B)/bench-rewrite $(if $(wildcard ctl/consentctl.c),$(B)/consentctl)
	@B=$(B) $(BENCH_LOCK) bash bench/milter-bench.sh
