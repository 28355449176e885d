# bench/: performance measurements printed side by side (make bench).
# Others may append their own targets to BENCH_TARGETS below.

# Rewrite of the reference newsletter (bench/newsletter.eml: ~60 KB of
# quoted-printable HTML, 30 links, 2 pixels) against a bare libxml2 SAX
# parse of the same decoded HTML; SPEC §7 goal: ratio <= 1.5.
$(B)/bench-rewrite: $(B)/obj/bench/bench_rewrite.o $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)

BENCH_TARGETS += bench-rewrite
bench-rewrite: $(B)/bench-rewrite
	@$(B)/bench-rewrite conf/trackers.rules bench/newsletter.eml
