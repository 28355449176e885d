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

# libFuzzer harness on rw_rewrite (clang). "make fuzz" runs it for
# FUZZ_TIME seconds on a scratch copy of tests/fuzz/seeds; "make
# fuzz-replay" replays the seeds through the same harness with $(CC) and a
# small main() (also part of make check / check-asan).
FUZZ_TIME ?= 60
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
fuzz:
	@$(MAKE) --no-print-directory B=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" \
	    build-fuzz/librw.a build-fuzz/libcm.a build-fuzz/obj/tests/fuzz/fuzz_rewrite.o
	clang -fsanitize=fuzzer,address,undefined -o build-fuzz/fuzz_rewrite \
	    build-fuzz/obj/tests/fuzz/fuzz_rewrite.o build-fuzz/librw.a build-fuzz/libcm.a \
	    $(PKG_LIBS)
	@mkdir -p build-fuzz/corpus build-fuzz/crashes
	cp tests/fuzz/seeds/* build-fuzz/corpus/
	CM_RULES=conf/trackers.rules build-fuzz/fuzz_rewrite -max_total_time=$(FUZZ_TIME) \
	    -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=build-fuzz/crashes/ build-fuzz/corpus

$(B)/fuzz-replay: $(B)/obj/tests/fuzz/fuzz_rewrite.o $(B)/obj/tests/fuzz/replay_main.o $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS_ALL) $(PKG_LIBS)

CHECK_TARGETS += fuzz-replay
fuzz-replay: $(B)/fuzz-replay
	@CM_RULES=conf/trackers.rules $(B)/fuzz-replay tests/fuzz/seeds/*

# Peak RSS of consent-rewrite on hostile inputs against SPEC §7 (<= 4x the
# message + a fixed base; tests/memory/rss_check.c). Skipped under the
# sanitizers, whose shadow memory and quarantine inflate RSS by design.
$(B)/rss-check: $(B)/obj/tests/memory/rss_check.o
	$(CC) $(ALL_LDFLAGS) -o $@ $<

CHECK_TARGETS += check-memory
check-memory: $(B)/rss-check $(B)/consent-rewrite
	@if [ -n "$(ASAN)" ]; then echo "check-memory: skipped under sanitizers"; \
	else $(B)/rss-check $(B)/consent-rewrite $(CURDIR); fi
