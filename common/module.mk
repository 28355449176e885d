# common/: the one small internal library (buffers, logging, config, tokens).
CM_SRC := $(wildcard common/*.c)
$(eval $(call make_lib,libcm.a,$(CM_SRC)))
