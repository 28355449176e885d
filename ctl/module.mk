# ctl/: consentctl, the admin CLI of the consent store (and of the
# PostgreSQL primary: libpgstore.a, libpq). ctl_pg_cmd.c needs the
# store's codec (store/store_repl.h); without it ctl_pg_none.c says so.
CTL_PG_OUT := $(if $(wildcard store/store_repl.h),ctl/ctl_pg_none.c,ctl/ctl_pg_cmd.c)
CTL_SRC := $(filter-out $(CTL_PG_OUT),$(wildcard ctl/*.c))
$(B)/obj/ctl/ctl_pg.o $(B)/obj/ctl/ctl_pg_cmd.o $(B)/obj/ctl/ctl_migrate.o: EXTRA_CFLAGS += $(PQ_CFLAGS)
$(B)/consentctl: $(patsubst %.c,$(B)/obj/%.o,$(CTL_SRC)) $(B)/libpgstore.a $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libpgstore.a $(LIBS_ALL) $(PKG_LIBS) \
	    $(PQ_LIBS)

BINS += $(if $(CTL_SRC),$(B)/consentctl)
