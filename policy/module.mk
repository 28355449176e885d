# policy/: the floor above the rewriter and the store: configuration,
# message info, the per-recipient decision and its consent lookup.
POLICY_SRC := $(wildcard policy/*.c)
$(eval $(call make_lib,libpolicy.a,$(POLICY_SRC)))
