# tools/: command-line tools over the libraries (consent-rewrite).
$(B)/consent-rewrite: $(B)/obj/tools/consent-rewrite.o $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)

BINS += $(B)/consent-rewrite

# The README's vendor table, generated from conf/trackers.rules: stale is a
# failure (tools/vendor-table.sh --update regenerates it).
.PHONY: check-readme
CHECK_TARGETS += check-readme
check-readme:
	@sh tools/vendor-table.sh --check
	@sh tests/vendor_table.sh
