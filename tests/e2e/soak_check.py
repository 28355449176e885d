#!/usr/bin/env python3
"""soak_check.py - the verdict of tests/e2e/soak.sh on the files it left in --dir.

Inputs (written by soak.sh):
  injected     "ID RCPT TEMPLATE" per message a session started
  accepted     "ID RCPT T0 T1": the attempt Postfix accepted, its start and end
  tempfails    "ID T0 T1 TEXT" per 4xx answer (sent again after)
  changes      "T0 T1 RCPT ACTION HTTP" per call to the gate's API in the run
  faults       "TIME WHAT" per fault injected
  samples      "TIME DAEMON RSS_KB FDS" once a second per daemon
  proof.N.json consentctl proof of recipient N, from the relay's replica
  sink/*       one file per transaction smtp-sink received

Consent rule: a change recorded in the ledger at second C (ledger times are
whole seconds) is applied in the relay's replica by A(C) = C + 1 + LAG,
LAG = 2 s; for a change recorded while consent-sync or PostgreSQL was down
(between a "-down" fault and its "-up", plus 5 s), A(C) = that "-up" + 5 s.
A message sent at T0 and accepted at T1 is "in flight" of a change when
C <= T1 and A(C) >= T0: then either state is accepted. Otherwise its
decision must be the state of the last change before T0: "consent" when
that was a grant, "no-consent" when it was a withdrawal. Decisions other
than these two (a class exemption) are counted, not judged.

Exit status 1 on a lost or duplicated message, a decision against the
record, a failed ledger verification or a replica not at the primary's head.
"""
import argparse
import glob
import json
import os
import re
import sys

LAG = 2.0
OUTAGE_TAIL = 5.0


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return [ln.split() for ln in f if ln.strip()]


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))]


def sink_index(d):
    """Message-ID -> list of decisions, one per sink file carrying it."""
    found = {}
    mid_re = re.compile(rb"^message-id:\s*<([^>]*)>", re.I)
    dec_re = re.compile(rb"^X-Consent-Milter:\s*2;\s*decision=([a-z-]+)")
    for f in glob.glob(os.path.join(d, "sink", "*")):
        mid = None
        decs = []
        with open(f, "rb") as fh:
            for ln in fh:
                ln = ln.rstrip(b"\r\n")
                if not ln:
                    break
                m = mid_re.match(ln)
                if m and mid is None:
                    mid = m.group(1).decode("ascii", "replace")
                m = dec_re.match(ln)
                if m:
                    decs.append(m.group(1).decode())
        if mid is not None:
            found.setdefault(mid, []).append(decs[-1] if decs else "none")
    return found


def outages(faults):
    """[(down, up)] of consent-sync and PostgreSQL."""
    res, open_ = [], {}
    for t, what in faults:
        for kind in ("sync", "pg"):
            if what == kind + "-down":
                open_[kind] = t
            elif what == kind + "-up" and kind in open_:
                res.append((open_.pop(kind), t))
    return res


def applied_by(c, outs):
    a = c + 1 + LAG
    for down, up in outs:
        if down - 1 <= c <= up + OUTAGE_TAIL:
            a = max(a, up + OUTAGE_TAIL)
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--start", type=float, required=True)
    ap.add_argument("--verify", default="")
    ap.add_argument("--heads", default="")
    a = ap.parse_args()
    d = a.dir
    fail = []

    injected = {r[0]: r[1] for r in lines(os.path.join(d, "injected"))}
    accepted = {r[0]: (r[1], float(r[2]), float(r[3])) for r in lines(os.path.join(d, "accepted"))}
    tempfails = lines(os.path.join(d, "tempfails"))
    faults = [(float(r[0]), r[1]) for r in lines(os.path.join(d, "faults"))]
    changes = lines(os.path.join(d, "changes"))
    outs = outages(faults)

    # ---- exactly once
    sink = sink_index(d)
    delivered = sum(1 for i in injected if i in sink)
    dups = [i for i in injected if len(sink.get(i, [])) > 1]
    lost = [i for i in injected if i not in sink]
    given_up = [i for i in injected if i not in accepted]
    print(f"injected: {len(injected)}")
    print(f"delivered: {delivered}")
    print(f"duplicated: {len(dups)}")
    print(f"lost: {len(lost)} (of which never accepted after 3 minutes of retries: {len(given_up)})")
    print(f"tempfails: {len(tempfails)} (answers 4xx, each sent again)")
    if dups:
        fail.append(f"{len(dups)} duplicated, e.g. {dups[:3]}")
    if lost:
        fail.append(f"{len(lost)} lost, e.g. {lost[:3]}")
    if not injected:
        fail.append("nothing injected")
    if accepted:
        lat = [(t1 - t0) * 1000 for _, t0, t1 in accepted.values()]
        print("session time per message (smtp-source, connect to 250 after the dot): "
              f"p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms, max {max(lat):.1f} ms")

    # ---- the store's record, per recipient
    hist = {}
    for f in glob.glob(os.path.join(d, "proof.*.json")):
        with open(f) as fh:
            doc = json.load(fh)
        for ev in doc.get("history", []):
            r = ev["recipient"]
            granted = ev["action"] == "grant"
            hist.setdefault(r, []).append((float(ev["time"]), granted, ev["action"]))
    for r in hist:
        hist[r].sort(key=lambda x: x[0])

    ok = amb = exempt = bad = 0
    bad_list = []
    per_rcpt_msgs = {}
    for mid, (rcpt, t0, t1) in accepted.items():
        decs = sink.get(mid)
        if not decs:
            continue
        dec = decs[0]
        per_rcpt_msgs.setdefault(rcpt, []).append((t0, t1, dec))
        if dec not in ("consent", "no-consent"):
            exempt += 1
            continue
        evs = hist.get(rcpt, [])
        if any(c <= t1 and applied_by(c, outs) >= t0 for c, _, _ in evs):
            amb += 1
            continue
        before = [g for c, g, _ in evs if c < t0]
        want = "consent" if before and before[-1] else "no-consent"
        if dec == want:
            ok += 1
        else:
            bad += 1
            bad_list.append(f"{mid} to {rcpt} sent {t0:.3f}: {dec}, record says {want}")
    print(f"decisions: {ok} as recorded, {amb} in flight of a change (either state allowed), "
          f"{exempt} exempt class, {bad} against the record")
    if bad:
        fail.append(f"{bad} decisions against the record, e.g. {bad_list[:3]}")
    if ok == 0:
        fail.append("no decision could be held against the record")

    # ---- withdrawals made, honoured
    made = [c for c in changes if c[3] == "withdraw" and c[4].startswith("2")]
    refused = [c for c in changes if not c[4].startswith("2")]
    grants = [c for c in changes if c[3] == "grant" and c[4].startswith("2")]
    honoured = tested = 0
    start = a.start
    for r, evs in hist.items():
        for k, (c, g, act) in enumerate(evs):
            if act != "withdraw" or c < int(start):
                continue
            nxt = evs[k + 1][0] if k + 1 < len(evs) else float("inf")
            a_c = applied_by(c, outs)
            after = [m for m in per_rcpt_msgs.get(r, []) if m[0] > a_c and m[1] < nxt]
            if after:
                tested += 1
            if all(m[2] != "consent" for m in after):
                honoured += 1
            else:
                fail.append(f"withdrawal of {r} at {c:.0f} not honoured")
    w_ledger = sum(1 for evs in hist.values() for c, g, act in evs if act == "withdraw" and c >= int(start))
    print(f"changes through the gate: {len(grants)} grants, {len(made)} withdrawals accepted, "
          f"{len(refused)} refused (primary down: grants get 503)")
    print(f"withdrawals made: {len(made)}; in the ledger: {w_ledger}; honoured: {honoured} "
          f"({tested} with mail sent after them)")

    # ---- daemons
    samples = lines(os.path.join(d, "samples"))
    byd = {}
    for t, name, rss, fds in samples:
        byd.setdefault(name, []).append((float(t), int(rss), int(fds)))
    t_start = a.start
    for name in ("milter", "gate", "sync-relay", "sync-gate"):
        v = byd.get(name)
        if not v:
            print(f"{name}: no samples")
            continue
        print(f"{name}: RSS peak {max(x[1] for x in v) / 1024:.1f} MB, final {v[-1][1] / 1024:.1f} MB; "
              f"open fds peak {max(x[2] for x in v)}, final {v[-1][2]}")
        if a.seconds >= 180:
            m2 = [x[1] for x in v if 60 <= x[0] - t_start < 120]
            ml = [x[1] for x in v if x[0] - t_start >= a.seconds - 60]
            if m2 and ml:
                print(f"  {name} RSS: last minute's peak / second minute's peak = "
                      f"{max(ml) / max(m2):.3f} (goal <= 1.05)")

    # ---- ledger
    print(f"ledger verify: {a.verify.strip()}")
    print(f"ledger heads: {a.heads}")
    if "FAILED" in a.verify or not a.verify.strip():
        fail.append("ledger verification failed")
    heads = dict(x.split("=", 1) for x in a.heads.split() if "=" in x)
    if len(set(heads.values())) != 1:
        fail.append(f"replica heads differ from the primary's: {a.heads}")
    print("faults: " + ", ".join(f"{w}@+{t - t_start:.0f}s" for t, w in faults))

    for f in fail:
        print(f"FAIL: {f}")
    return 1 if fail else 0


def self_test():
    """The verdict on made-up runs: a clean one passes; a lost message, a
    duplicate, a decision against the record, a withdrawal not honoured and
    a failed verification each fail it. Exit 0 when every case holds."""
    import subprocess
    import tempfile

    def run_case(edit):
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "sink"))
            t = 1000.0
            files = {
                "injected": "m1 r0@x t\nm2 r0@x t\nm3 r0@x t\n",
                "accepted": f"m1 r0@x {t + 1} {t + 1.1}\nm2 r0@x {t + 20} {t + 20.1}\n"
                            f"m3 r0@x {t + 40} {t + 40.1}\n",
                "changes": f"{t + 10} {t + 10.1} r0@x withdraw 201\n",
                "faults": f"{t + 30} usr1\n",
                "samples": f"{t + 1} milter 1000 10\n",
            }
            sink = [["m1", "consent"], ["m2", "no-consent"], ["m3", "no-consent"]]
            proof = [{"recipient": "r0@x", "time": t - 5, "action": "grant"},
                     {"recipient": "r0@x", "time": t + 10, "action": "withdraw"}]
            verify = "primary=ok replica1=ok"
            edit(files, sink, proof)
            if "verify" in files:
                verify = files.pop("verify")
            for k, v in files.items():
                with open(os.path.join(d, k), "w") as f:
                    f.write(v)
            for n, (mid, dec) in enumerate(sink):
                with open(os.path.join(d, "sink", str(n)), "w") as f:
                    f.write(f"Message-ID: <{mid}>\nX-Consent-Milter: 2; decision={dec}; mac=0\n\nbody\n")
            with open(os.path.join(d, "proof.0.json"), "w") as f:
                json.dump({"history": proof}, f)
            return subprocess.run(
                [sys.executable, __file__, "--dir", d, "--seconds", "60", "--start", str(t),
                 "--verify", verify, "--heads", "primary=5 replica1=5"],
                stdout=subprocess.DEVNULL).returncode

    cases = {
        "clean run": (lambda f, s, p: None, 0),
        "lost": (lambda f, s, p: s.pop(1), 1),
        "duplicate": (lambda f, s, p: s.append(["m2", "no-consent"]), 1),
        "decision against the record": (lambda f, s, p: s[2].__setitem__(1, "consent"), 1),
        "withdrawal not honoured": (lambda f, s, p: s[1].__setitem__(1, "consent"), 1),
        "withdrawal in flight": (lambda f, s, p: f.update(
            {"accepted": f.get("accepted").replace("1020.0 1020.1", "1012.0 1012.1")}) or
            s[1].__setitem__(1, "consent"), 0),
        "verify failed": (lambda f, s, p: f.update({"verify": "primary=ok replica1=FAILED"}), 1),
    }
    bad = 0
    for name, (edit, want) in cases.items():
        got = run_case(edit)
        ok = (got == 0) == (want == 0)
        bad += not ok
        print(("ok" if ok else "not ok") + f" - soak verdict: {name}: exit {got}")
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(main())
