# ctl/: consentctl, the admin CLI of the consent store.
CTL_SRC := $(wildcard ctl/*.c)
$(B)/consentctl: $(patsubst %.c,$(B)/obj/%.o,$(CTL_SRC)) $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS_ALL) $(PKG_LIBS)

BINS += $(if $(CTL_SRC),$(B)/consentctl)
