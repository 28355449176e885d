# store/: consent store library (LMDB) and the consentctl CLI.
STORE_LIB_SRC := $(filter-out store/consentctl.c,$(wildcard store/*.c))
$(eval $(call make_lib,libstore.a,$(STORE_LIB_SRC)))

$(B)/consentctl: $(B)/obj/store/consentctl.o $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)

BINS += $(if $(wildcard store/consentctl.c),$(B)/consentctl)
