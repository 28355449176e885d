# rewriter/: the pure rewriting library and the consent-rewrite CLI.
RW_LIB_SRC := $(filter-out rewriter/consent-rewrite.c,$(wildcard rewriter/*.c))
$(eval $(call make_lib,librw.a,$(RW_LIB_SRC)))

$(B)/consent-rewrite: $(B)/obj/rewriter/consent-rewrite.o $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)

BINS += $(if $(wildcard rewriter/consent-rewrite.c),$(B)/consent-rewrite)
