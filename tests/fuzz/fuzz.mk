# libFuzzer harnesses (issue 13), one per parser that takes hostile input:
# tests/fuzz/fuzz_NAME.c, with its own seeds in tests/fuzz/NAME/seeds and
# the inputs that once crashed it in tests/fuzz/NAME/regressions.
#   rewrite  rw_rewrite: MIME and HTML (rewriter/)
#   cfg      the configuration parser (policy/cfg.h)
#   tok      the token decoder, forged tokens under a fixed key (common/tok.h)
#   import   consentctl import's CSV / JSON lines parser (ctl_import_read)
#   gate     consent-gate's request handling: path, query, body (gate/route.c)
# "make fuzz-long FUZZ_SECONDS=N" builds them with clang (ASan, UBSan,
# libFuzzer) in build-fuzz/ and runs each for N seconds, one at a time under
# nice, printing executions and coverage per target (tests/fuzz/long.sh);
# "make fuzz" is the same for FUZZ_TIME seconds each. "make fuzz-replay"
# (part of make check and check-asan) runs every seed and regression through
# the same harnesses built with $(CC) and a small main(): no clang needed.
FUZZ_NAMES = rewrite cfg tok import gate
FUZZ_SECONDS ?= 360
FUZZ_TIME ?= 60
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
    -fno-sanitize-recover=all
FUZZ_LINK = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

FUZZ_LIBS_rewrite = $(B)/librw.a $(B)/libcm.a
FUZZ_LIBS_cfg = $(LIBS_ALL)
FUZZ_LIBS_tok = $(B)/libcm.a
FUZZ_LIBS_import = $(addprefix $(B)/obj/ctl/,ctl_import.o ctl_util.o ctl_batch.o ctl_pg.o) \
    $(B)/libpgstore.a $(LIBS_ALL)
FUZZ_XLIBS_import = $(PQ_LIBS)
FUZZ_LIBS_gate = $(B)/libgate.a $(B)/libpgstore.a $(LIBS_ALL)
FUZZ_XLIBS_gate = $(PQ_LIBS)

# $(B)/fuzz-replay-NAME (any compiler) and $(B)/fuzz-NAME (clang, libFuzzer).
define fuzz_target
$(B)/fuzz-replay-$(1): $(B)/obj/tests/fuzz/fuzz_$(1).o $(B)/obj/tests/fuzz/replay_main.o \
    $(FUZZ_LIBS_$(1))
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(filter %.a,$$^) $$(PKG_LIBS) \
	    $(FUZZ_XLIBS_$(1))
$(B)/fuzz-$(1): $(B)/obj/tests/fuzz/fuzz_$(1).o $(FUZZ_LIBS_$(1))
	$$(CC) $$(ALL_LDFLAGS) $$(FUZZ_LINK) -o $$@ $$(filter %.o,$$^) $$(filter %.a,$$^) \
	    $$(PKG_LIBS) $(FUZZ_XLIBS_$(1))
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_target,$(n))))

CHECK_TARGETS += fuzz-replay
.PHONY: fuzz-replay fuzz-build fuzz-long
fuzz-replay: $(foreach n,$(FUZZ_NAMES),$(B)/fuzz-replay-$(n))
	@set -e; for n in $(FUZZ_NAMES); do \
	    set -- tests/fuzz/$$n/seeds/* tests/fuzz/$$n/regressions/*; \
	    files=; for f in "$$@"; do [ -f "$$f" ] && files="$$files $$f"; done; \
	    [ -n "$$files" ] || { echo "fuzz-replay: $$n: no seeds"; exit 1; }; \
	    printf '%-8s ' "$$n"; \
	    CM_RULES=conf/trackers.rules $(B)/fuzz-replay-$$n $$files \
	        2>$(B)/fuzz-replay-$$n.log || { cat $(B)/fuzz-replay-$$n.log; exit 1; }; \
	done

fuzz-build: $(B)/.deps-ok
	@$(MAKE) --no-print-directory B=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" \
	    $(foreach n,$(FUZZ_NAMES),build-fuzz/fuzz-$(n))

fuzz-long: fuzz-build
	@sh tests/fuzz/long.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz: fuzz-build
	@sh tests/fuzz/long.sh build-fuzz $(FUZZ_TIME) $(FUZZ_NAMES)
