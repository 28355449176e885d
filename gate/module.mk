# gate/: consent-gate, the HTTP service (libmicrohttpd).
GATE_SRC := $(wildcard gate/*.c)
$(B)/consent-gate: $(patsubst %.c,$(B)/obj/%.o,$(GATE_SRC)) $(LIBS_ALL)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS_ALL) $(PKG_LIBS)

BINS += $(if $(GATE_SRC),$(B)/consent-gate)
