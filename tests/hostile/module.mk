# tests/hostile/: the hostile-input suite of issue 13 (make check-hostile,
# part of make check): each case runs the real programs (consent-rewrite,
# consent-milter under miltertest, consentctl) on an input chosen to break
# them, generated at test time, and checks the outcome and the peak RSS
# against SPEC §7 (tests/hostile/run.sh).
$(B)/hostile-tool: $(B)/obj/tests/hostile/hostile_tool.o
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS)

CHECK_TARGETS += check-hostile
check-hostile: $(B)/hostile-tool $(B)/consent-rewrite $(B)/consent-milter $(B)/consentctl
	@B=$(B) ASAN=$(ASAN) bash tests/hostile/run.sh
