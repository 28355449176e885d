# store/: consent store library (LMDB) and the consentctl CLI.
# consentctl is consentctl.c plus the store/ctl_*.c helpers; everything
# else in store/ is the library.
CTL_SRC := $(wildcard store/consentctl.c store/ctl_*.c)
STORE_LIB_SRC := $(filter-out $(CTL_SRC),$(wildcard store/*.c))
$(eval $(call make_lib,libstore.a,$(STORE_LIB_SRC)))

$(B)/consentctl: $(patsubst %.c,$(B)/obj/%.o,$(CTL_SRC)) $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS_ALL) $(PKG_LIBS)

BINS += $(if $(wildcard store/consentctl.c),$(B)/consentctl)

include bench/store.mk

# Process-level tests of consentctl (bad input, kill -9 durability,
# concurrency); store_bench generates the big import file.
CHECK_TARGETS += check-store
check-store: $(B)/consentctl $(B)/store_bench
	@sh tests/store/run.sh $(B)
