# ctl/: consentctl, the admin CLI of the consent store (and of the
# PostgreSQL primary: libpgstore.a, libpq).
CTL_SRC := $(wildcard ctl/*.c)
$(B)/obj/ctl/ctl_pg.o: EXTRA_CFLAGS += $(PQ_CFLAGS)
$(B)/consentctl: $(patsubst %.c,$(B)/obj/%.o,$(CTL_SRC)) $(B)/libpgstore.a $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libpgstore.a $(LIBS_ALL) $(PKG_LIBS) \
	    $(PQ_LIBS)

BINS += $(if $(CTL_SRC),$(B)/consentctl)
