# pgstore/: the PostgreSQL primary (issue 11), layer of policy/: on store/
# and common/. Only the programs that talk to the primary link it and libpq
# (PQ_LIBS); the milter does not.
PQ_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpq 2>/dev/null)
PQ_LIBS := $(shell $(PKG_CONFIG) --libs libpq 2>/dev/null)
# pg_write.c (pgstore_record) and pg_erase.c use the store's codec, store/store_repl.h
# (fix/repl): built as soon as that header is in the tree.
PGSTORE_SRC := $(filter-out $(if $(wildcard store/store_repl.h),,pgstore/pg_write.c pgstore/pg_erase.c \
    pgstore/pg_verify.c),\
    $(wildcard pgstore/*.c))
# The schema, built into the library as a string (pg-init needs no file).
$(B)/gen/pg_schema.c: sql/schema-v1.sql pgstore/module.mk
	@mkdir -p $(dir $@)
	{ echo '/* generated from sql/schema-v1.sql */'; \
	  echo 'const char pgstore_schema_sql[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } >$@
$(B)/obj/gen/pg_schema.o: $(B)/gen/pg_schema.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-variable-declarations -c -o $@ $<
$(B)/obj/pgstore/%.o: EXTRA_CFLAGS += $(PQ_CFLAGS)
$(B)/libpgstore.a: $(patsubst %.c,$(B)/obj/%.o,$(PGSTORE_SRC)) $(B)/obj/gen/pg_schema.o
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# tests/pg/pg_record.c drives pgstore_record; it needs the codec too.
PG_RECORD := $(if $(wildcard store/store_repl.h),$(B)/tests/pg_record)
$(B)/obj/tests/pg/%.o: EXTRA_CFLAGS += $(PQ_CFLAGS)
$(B)/tests/pg_record: $(B)/obj/tests/pg/pg_record.o $(B)/libpgstore.a $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libpgstore.a $(LIBS_ALL) $(PKG_LIBS) $(PQ_LIBS)

# tests/pg/pg_ver.c: pgstore_connect alone (schema-version cases).
$(B)/tests/pg_ver: $(B)/obj/tests/pg/pg_ver.o $(B)/libpgstore.a $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libpgstore.a $(LIBS_ALL) $(PKG_LIBS) $(PQ_LIBS)

# tests/pg/mig_fill.c: last-open days and counters for the migrate tests.
$(B)/tests/mig_fill: $(B)/obj/tests/pg/mig_fill.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)

CHECK_TARGETS += check-pg
check-pg: $(B)/consentctl $(PG_RECORD) $(B)/tests/pg_ver $(B)/tests/mig_fill $(B)/consent-sync
	@B=$(B) sh tests/pg/run.sh

# tests/pg/import.sh feeds a replica with consent-sync.
check-pg: $(B)/consent-sync
-include bench/import.mk
