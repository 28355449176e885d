#!/usr/bin/env python3
"""grafana_check.py DASHBOARD PREFIX METRICS_FILE: the dashboard is valid
JSON with panels, and every metric named PREFIX* that it queries (a
histogram's _bucket/_sum/_count by its base name) appears in METRICS_FILE,
real output of the program. Prints 'grafana: N passed, M failed'."""
import json
import re
import sys


def main():
    dash, prefix, prom = sys.argv[1:4]
    with open(dash, encoding="utf-8") as f:
        d = json.load(f)
    exprs = [t["expr"] for p in d.get("panels", []) for t in p.get("targets", [])]
    exprs += [v.get("query", "") for v in d.get("templating", {}).get("list", [])]
    wanted = sorted({m for e in exprs for m in re.findall(r"\b" + prefix + r"[a-z_]+", e)})
    with open(prom, encoding="utf-8") as f:
        have = set()
        for line in f:
            if line.startswith("# TYPE "):
                have.add(line.split()[2])
            elif line and not line.startswith("#"):
                have.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    passed = failed = 0
    if not wanted:
        print("grafana: the dashboard queries no %s metric" % prefix)
        failed += 1
    for m in wanted:
        if m in have:
            passed += 1
        else:
            print("grafana: %s queried but not in the output" % m)
            failed += 1
    print("grafana %s: %d passed, %d failed" % (prefix, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
