# rewriter/: the pure rewriting library (its CLI, consent-rewrite, is in tools/).
RW_LIB_SRC := $(wildcard rewriter/*.c)
$(eval $(call make_lib,librw.a,$(RW_LIB_SRC)))

# Golden fixtures: tests/fixtures/NAME.eml -> NAME.expected.eml through
# consent-rewrite (tests/fixtures/run.sh; "run.sh BIN --update" regenerates).
CHECK_TARGETS += check-fixtures
check-fixtures: $(B)/consent-rewrite
	@sh tests/fixtures/run.sh $(B)/consent-rewrite

# The external corpus (../shared/corpus): layout identity, real-mail
# findings, malformed input. Absent corpus: says so and passes.
CORPUS ?= ../shared/corpus
$(B)/corpus-check: $(B)/obj/tests/corpus/corpus_check.o $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)

check-corpus: $(B)/.deps-ok
	@$(MAKE) --no-print-directory $(B)/corpus-check $(B)/tests/test_html
	@$(B)/corpus-check conf/trackers.rules $(CORPUS)
	@if [ -d "$(CORPUS)" ]; then \
	    echo "== HTML scan sanity over $(CORPUS)"; \
	    CM_SRCDIR=$(CURDIR) CM_CORPUS="$(abspath $(CORPUS))" $(B)/tests/test_html \
	        --short-filename --verbose --filter '$(UNIT_CORPUS)' >$(B)/corpus-html.log 2>&1; \
	    rc=$$?; grep -v '^\[SKIP\]\|^\[RUN' $(B)/corpus-html.log; exit $$rc; \
	else echo "check-corpus: $(CORPUS) not found: HTML scan sanity not run"; fi

# The libFuzzer harness on rw_rewrite is tests/fuzz/fuzz_rewrite.c (tests/fuzz/fuzz.mk).

# Peak RSS of consent-rewrite on hostile inputs against SPEC §7 (<= 4x the
# message + a fixed base; tests/memory/rss_check.c). Skipped under the
# sanitizers, whose shadow memory and quarantine inflate RSS by design.
$(B)/rss-check: $(B)/obj/tests/memory/rss_check.o
	$(CC) $(ALL_LDFLAGS) -o $@ $<

CHECK_TARGETS += check-memory
check-memory: $(B)/rss-check $(B)/consent-rewrite
	@if [ -n "$(ASAN)" ]; then echo "check-memory: skipped under sanitizers"; \
	else $(B)/rss-check $(B)/consent-rewrite $(CURDIR); fi
