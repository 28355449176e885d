# bench/milter.mk: consent-milter behind a real Postfix (SPEC §7), included
# from milter/module.mk. One run compares four setups with smtp-source
# (1,000 reference newsletters, 10 sessions): no milter, a no-op milter,
# consent-milter, and the split layout; prints throughput ratios and the
# milter's RSS (start, middle, end, peak). Needs root (Postfix).
$(B)/bench-noop-milter: $(B)/obj/bench/noop_milter.o
	$(CC) $(ALL_LDFLAGS) -o $@ $< -lmilter -lpthread

.PHONY: bench-milter
BENCH_TARGETS += bench-milter
bench-milter: $(B)/consent-milter $(B)/bench-noop-milter $(if $(wildcard ctl/consentctl.c),$(B)/consentctl)
	@B=$(B) bash bench/milter-bench.sh
