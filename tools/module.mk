# tools/: command-line tools over the libraries (consent-rewrite).
$(B)/consent-rewrite: $(B)/obj/tools/consent-rewrite.o $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)

BINS += $(B)/consent-rewrite
