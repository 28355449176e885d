# common/: the ground floor, knowing nothing of mail or consent (buffers,
# logging, tokens, address ranges).
CM_SRC := $(wildcard common/*.c)
$(eval $(call make_lib,libcm.a,$(CM_SRC)))
