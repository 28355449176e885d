# bench/: performance measurements printed side by side (make bench).
# Others may append their own targets to BENCH_TARGETS below.

# Rewrite of the reference newsletter (bench/newsletter.eml: ~60 KB of
# quoted-printable HTML, 30 links, 2 pixels) against a bare libxml2 SAX
# parse of the same decoded HTML; SPEC §7 goal: ratio <= 1.25 (instructions).
$(B)/bench-rewrite: $(B)/obj/bench/bench_rewrite.o $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)

# Two figures: wall clock (thread CPU time, best of 10 rounds) for humans,
# and instructions per message counted by callgrind (--toggle-collect on
# the job function of each side, ASLR off), which do not depend on the
# machine's load: the one to hold against the goal. The count is skipped,
# with a note, when valgrind is missing or BENCH_CALLGRIND=0.
BENCH_CG_N ?= 5
BENCH_CALLGRIND ?= 1
BENCH_TARGETS += bench-rewrite
bench-rewrite: $(B)/bench-rewrite
	@$(B)/bench-rewrite conf/trackers.rules bench/newsletter.eml
	@if [ "$(BENCH_CALLGRIND)" = 0 ]; then exit 0; fi; \
	if ! command -v valgrind >/dev/null 2>&1; then \
	    echo "bench-rewrite: valgrind not installed: no instruction count"; exit 0; fi; \
	norand=""; setarch "$$(uname -m)" -R true 2>/dev/null && norand="setarch $$(uname -m) -R"; \
	for s in rewrite sax; do \
	    BENCH_ONLY=$$s $$norand valgrind --tool=callgrind --toggle-collect=job_$$s \
	        --callgrind-out-file=$(B)/bench-rewrite.callgrind.$$s \
	        $(B)/bench-rewrite conf/trackers.rules bench/newsletter.eml $(BENCH_CG_N) \
	        >/dev/null 2>$(B)/bench-rewrite.callgrind.$$s.log || \
	        { echo "bench-rewrite: callgrind run failed, see $(B)/bench-rewrite.callgrind.$$s.log"; exit 1; }; \
	done; \
	awk -v n=$(BENCH_CG_N) '/^summary:/ { v[FILENAME ~ /rewrite$$/ ? "rw" : "sax"] = $$2 / n } \
	    END { if (!v["rw"] || !v["sax"]) { print "bench-rewrite: no callgrind totals"; exit 1 } \
	          printf "bench-rewrite: instructions per message (callgrind): rw_rewrite %.2fM, " \
	                 "libxml2 SAX %.2fM, ratio %.3f (goal <= 1.25, SPEC §7)\n", \
	                 v["rw"] / 1e6, v["sax"] / 1e6, v["rw"] / v["sax"] }' \
	    $(B)/bench-rewrite.callgrind.rewrite $(B)/bench-rewrite.callgrind.sax

# Peak RSS of consent-rewrite on the hostile inputs of issue 9 (7 MB HTML
# with a link and a pixel per paragraph, 44 MB of seven text parts), with
# and without --report json, as a ratio to the input; SPEC §7 goal <= 4
# (tests/memory/rss_check.c; make check runs it at smaller sizes).
BENCH_TARGETS += bench-memory
bench-memory: $(B)/rss-check $(B)/consent-rewrite
	@$(B)/rss-check $(B)/consent-rewrite $(CURDIR) bench
