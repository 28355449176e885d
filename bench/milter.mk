# bench/milter.mk: Postfix throughput with smtp-source (see bench/milter-bench.sh).
