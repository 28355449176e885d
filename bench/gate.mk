# bench/gate.mk: consent-gate gated pixel vs /healthz with wrk (included
# from gate/module.mk); see bench/gate.sh.
.PHONY: bench-gate
BENCH_TARGETS += bench-gate
bench-gate: $(B)/consent-gate $(B)/consentctl
	@B=$(B) bash bench/gate.sh
