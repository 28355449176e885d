# tests/e2e/soak.mk: sustained load with faults (issue 13), included from
# sync/module.mk (it needs consent-sync). `make soak` runs
# tests/e2e/soak.sh: real Postfix, consent-milter on a relay's replica,
# consent-sync, consent-gate and a private PostgreSQL, SOAK_SESSIONS
# smtp-source sessions for SOAK_SECONDS with faults injected; CI runs
# SOAK_SECONDS=60. Starts Postfix: run it under the e2e lock
# (flock /tmp/consent-e2e.lock make soak). Not part of make check.
SOAK_SECONDS ?= 600
SOAK_SESSIONS ?= 20

.PHONY: soak
soak: $(B)/consent-milter $(B)/consent-sync $(B)/consent-gate $(B)/consentctl
	@B=$(B) SOAK_SECONDS=$(SOAK_SECONDS) SOAK_SESSIONS=$(SOAK_SESSIONS) bash tests/e2e/soak.sh

# The soak's verdict itself, on made-up runs (no root, no Postfix): a lost
# message, a duplicate, a decision against the record, a withdrawal not
# honoured and a failed verification each fail it; a clean run passes.
CHECK_TARGETS += check-soak-verdict
.PHONY: check-soak-verdict
check-soak-verdict:
	@python3 tests/e2e/soak_check.py --self-test
