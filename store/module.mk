# store/: the consent store library (LMDB backend, ledger). Its CLI is ctl/.
STORE_LIB_SRC := $(wildcard store/*.c)
$(eval $(call make_lib,libstore.a,$(STORE_LIB_SRC)))

include bench/store.mk

# Process-level tests of consentctl (bad input, kill -9 durability,
# concurrency); store_bench generates the big import file.
CHECK_TARGETS += check-store
check-store: $(B)/consentctl $(B)/store_bench
	@sh tests/store/run.sh $(B)
