# bench/import.mk: `make bench-import` (in `make bench`): BENCH_IMPORT_N
# records (default the issue's 10,000,000) imported into a private
# PostgreSQL 15 through `consentctl import` (binary COPY, one
# transaction; pgstore/pg_import.h), with records/s, total seconds and
# the CPU seconds of consentctl and of the server backend. Goal (issue
# 11): 10 M in under 3 minutes. Needs postgresql-15 and root or a
# postgres user (tests/pg/lib.sh); about 1 GB of CSV and 8 GB of database
# in /tmp at 10 M. Runs under nice.
BENCH_IMPORT_N ?= 10000000
BENCH_TARGETS += bench-import
.PHONY: bench-import
bench-import: $(B)/consentctl
	@B=$(B) N=$(BENCH_IMPORT_N) nice -n 10 sh bench/import.sh
