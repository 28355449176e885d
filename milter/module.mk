# milter/: consent-milter, the libmilter daemon.
MILTER_SRC := $(wildcard milter/*.c)
$(B)/consent-milter: $(patsubst %.c,$(B)/obj/%.o,$(MILTER_SRC)) $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS_ALL) $(PKG_LIBS)

BINS += $(if $(MILTER_SRC),$(B)/consent-milter)
