# tests/: Criterion unit tests. Every tests/unit/test_NAME.c becomes the
# binary $(B)/tests/test_NAME linked against all internal libraries.
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
CRITERION_LIBS = $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)

# The programs' libraries come first; a test may stub a function of theirs
# (the archive member defining it is then not pulled in).
TEST_LIBS = $(B)/libgate.a $(B)/libmlt.a $(B)/libpgstore.a $(LIBS_ALL)
$(B)/tests/%: $(B)/obj/tests/unit/%.o $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_LIBS) $(CRITERION_LIBS) $(PKG_LIBS) $(PQ_LIBS)

BINS += $(UNIT_BINS)
CHECK_TARGETS += check-unit

# Each binary prints Criterion's "Synthesis:" line; any failure stops make.
# Tests that need ../shared/corpus run in check-corpus instead (UNIT_CORPUS):
# a clone with nothing beside it must pass make check.
UNIT_CORPUS = html/corpus_sanity
check-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do \
	    echo "== $$t"; CM_SRCDIR=$(CURDIR) $$t --jobs 2 --short-filename \
	        --filter '!($(UNIT_CORPUS))'; done

# The architecture, from the code itself: every dependency runs down a
# layer and no two files depend on each other in a circle (README,
# "Layers"); every exported symbol carries its module's prefix.
.PHONY: symcheck layercheck
CHECK_TARGETS += symcheck layercheck
symcheck: build-all
	@sh tests/symcheck.sh $(B)
layercheck: build-all
	@sh tests/layers.sh $(B)

# test_oom fails each allocation of our own code in turn (rewriter.h,
# "Memory"): the project's static libraries are linked with these calls
# wrapped; the shared libraries keep their own allocators.
$(B)/tests/test_oom: EXTRA_LDFLAGS += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup

# libFuzzer harnesses (make fuzz, make fuzz-long, make fuzz-replay).
include tests/fuzz/fuzz.mk
