#!/usr/bin/env python3
"""Markdown report of bench/anchors.sh: reads OUT/results.tsv, the iperf3 JSON and the ping outputs."""
import json, math, os, re, sys

out = sys.argv[1]
res = {}
for line in open(os.path.join(out, "results.tsv")):
    sec, key, val = (line.rstrip("\n").split("\t") + ["", ""])[:3]
    res.setdefault(sec, {})[key] = val
meta = res.get("meta", {})
systems = meta.get("systems", "").split()
rounds = int(meta.get("rounds", "1"))
NAMES = {
    "vxlan": "kernel VXLAN star (bridge on sw)",
    "tinc": "tinc 1.0 switch mode via sw, AES-256-CBC",
    "openvpn": "OpenVPN 2.6 TAP server, client-to-client, AES-256-GCM",
    "nebula": "Nebula 1.6, L3, peer to peer (not via sw), AES-256-GCM",
    "wggo": "wireguard-go, L3 star via sw",
    "n2n": "n2n v3 via supernode (-S1), AES",
    "vl2raw": "**vl2 raw**",
    "vl2enc": "**vl2 encrypted (default)**",
    "vl2encc2": "vl2 encrypted, agents with C2 JIT",
}
USERSPACE_ENCRYPTED = ["tinc", "openvpn", "nebula", "wggo", "n2n"]


def load(key):
    try:
        d = json.load(open(os.path.join(out, key + ".json")))
    except Exception:
        return None
    return None if "error" in d and "end" not in d else d


def tcp(s, r, test):
    """Gbit/s, retransmits, GB received, CPU s per GB of the system's processes"""
    key = f"{s}.r{r}.{test}"
    d = load(key)
    try:
        got = d["end"]["sum_received"]
        gb = got["bytes"] / 1e9
        cpu = float(res[key]["cpu_s"])
        return {"gbps": got["bits_per_second"] / 1e9, "retr": d["end"]["sum_sent"].get("retransmits"),
                "gb": gb, "cpu": cpu, "cpu_gb": cpu / gb if gb > 0 else None}
    except Exception:
        return None


def ping(s, r, which):
    try:
        text = open(os.path.join(out, f"{s}.r{r}.{which}.txt")).read()
    except Exception:
        return None
    t = sorted(float(x) for x in re.findall(r"time=([0-9.]+) ms", text))
    m = re.search(r"(\d+) packets transmitted, (\d+) received", text)
    if not t or not m:
        return None
    sent, got = int(m.group(1)), int(m.group(2))
    return {"p50": t[max(0, math.ceil(0.5 * len(t)) - 1)], "p99": t[max(0, math.ceil(0.99 * len(t)) - 1)],
            "loss": 100.0 * (sent - got) / sent if sent else 0}


def ok(s, r):
    return f"{s}.r{r}" in res and "skipped" not in res[f"{s}.r{r}"]


def cell(fn, s, fmt):
    vals = []
    for r in range(1, rounds + 1):
        if not ok(s, r):
            vals.append("skip")
            continue
        try:
            v = fn(s, r)
        except Exception:
            v = None
        vals.append("–" if v is None else format(v, fmt))
    return "; ".join(vals)


cols = [
    ("TCP 1 stream Gbit/s", lambda s, r: tcp(s, r, "tcp1")["gbps"], ".2f"),
    ("TCP 4 streams Gbit/s", lambda s, r: tcp(s, r, "tcp4")["gbps"], ".2f"),
    ("RTT p50 / p99 at 5 ms (ms)", None, None),
    ("RTT p50 / p99 at 100 ms (ms)", None, None),
    ("CPU s/GB, 1 stream", lambda s, r: tcp(s, r, "tcp1")["cpu_gb"], ".1f"),
    ("CPU s/GB, 4 streams", lambda s, r: tcp(s, r, "tcp4")["cpu_gb"], ".1f"),
    ("retransmits 1 / 4 streams", None, None),
    ("MTU", lambda s, r: int(res[f"{s}.r{r}"]["mtu"]), "d"),
    ("load avg (1 min) before", lambda s, r: float(res[f"{s}.r{r}"]["load"].split()[0]), ".1f"),
]


def pings(which):
    def f(s, r):
        p = ping(s, r, which)
        if p is None:
            return None
        loss = f" ({p['loss']:.0f} % lost)" if p["loss"] else ""
        return f"{p['p50']:.3f} / {p['p99']:.2f}{loss}"
    return f


def retr(s, r):
    a, b = tcp(s, r, "tcp1"), tcp(s, r, "tcp4")
    return f"{a['retr'] if a else '–'} / {b['retr'] if b else '–'}"


print(f"### Anchors: vl2 next to other overlays on one topology ({meta.get('date')})")
print()
print(f"`{meta.get('command')}`: {rounds} round(s), the systems in alternating order (round 1: "
      f"{', '.join(systems)}; round 2 the reverse; ...), {meta.get('seconds')} s per iperf3 test, pings: "
      f"{meta.get('pings')}. Machine: {meta.get('cpus')}, {meta.get('kernel')}. Versions: {meta.get('versions')}. "
      f"vl2: {meta.get('dist', '–')}. Load average (1/5/15 min): {meta.get('load_start')} at the start, "
      f"{meta.get('load_end')} at the end.")
print()
print("Each cell: round 1; round 2; .... CPU s/GB: user + system seconds of every process of the system in the "
      "three namespaces (daemons, JVMs; not iperf3, not ping) over the TCP test, per GB iperf3 received; the kernel "
      "VXLAN star has no processes (its work is softirq time, not attributable here).")
print()
print("| system | " + " | ".join(c[0] for c in cols) + " |")
print("|---|" + "---:|" * len(cols))
for s in systems:
    cells = []
    for label, fn, fmt in cols:
        if label.startswith("RTT p50 / p99 at 5"):
            cells.append(cell(pings("ping5"), s, "s"))
        elif label.startswith("RTT p50 / p99 at 100"):
            cells.append(cell(pings("ping100"), s, "s"))
        elif label.startswith("retransmits"):
            cells.append(cell(retr, s, "s"))
        elif s == "vxlan" and label.startswith("CPU"):
            cells.append("kernel")
        else:
            cells.append(cell(fn, s, fmt))
    print(f"| {NAMES.get(s, s)} | " + " | ".join(cells) + " |")
for s in systems:
    for r in range(1, rounds + 1):
        if f"{s}.r{r}" in res and "skipped" in res[f"{s}.r{r}"]:
            print(f"\n{NAMES.get(s, s)}, round {r}: skipped: {res[f'{s}.r{r}']['skipped']}")
print()


# goals of issue 15 that this run measures, per round (ratios within one round)
def val(fn):
    try:
        return fn()
    except Exception:
        return None


def best_peer(r, metric, lower=False):
    vals = [(p, val(lambda: metric(p))) for p in USERSPACE_ENCRYPTED if p in systems and ok(p, r)]
    vals = [(p, v) for p, v in vals if v is not None]
    if not vals:
        return None, None
    return (min if lower else max)(vals, key=lambda x: x[1])


rows = []
for r in range(1, rounds + 1):
    g = lambda s, t: val(lambda: tcp(s, r, t)["gbps"])
    for t, n in (("tcp1", "1 stream"), ("tcp4", "4 streams")):
        e, raw = g("vl2enc", t), g("vl2raw", t)
        if e is not None and raw is not None:
            rows.append((f"vl2 encrypted TCP >= 0.8x vl2 raw ({n})", r, f"{e:.2f} / {raw:.2f} = {e / raw:.2f}x", e / raw >= 0.8))
        bp, bv = best_peer(r, lambda p: tcp(p, r, t)["gbps"])
        if e is not None and bv:
            rows.append((f"vl2 encrypted TCP >= 2.5x the best encrypted userspace peer ({n})", r,
                         f"{e:.2f} / {bv:.2f} ({bp}) = {e / bv:.2f}x", e / bv >= 2.5))
        x = g("vxlan", t)
        if raw is not None and x:
            rows.append((f"vl2 raw TCP >= 0.3x kernel VXLAN star ({n})", r, f"{raw:.2f} / {x:.2f} = {raw / x:.2f}x", raw / x >= 0.3))
    for s in [x for x in ("vl2raw", "vl2enc", "vl2encc2") if x in systems]:
        p5 = val(lambda: ping(s, r, "ping5")["p50"])
        if p5 is not None:
            rows.append((f"{s} RTT p50 <= 0.2 ms at 5 ms intervals", r, f"{p5:.3f} ms", p5 <= 0.2))
        p100 = val(lambda: ping(s, r, "ping100")["p50"])
        bp, bv = best_peer(r, lambda p: ping(p, r, "ping100")["p50"], lower=True)
        if p100 is not None and bv is not None:
            rows.append((f"{s} RTT p50 at 100 ms intervals <= the best peer", r, f"{p100:.3f} vs {bv:.3f} ms ({bp})", p100 <= bv))
        for t, n in (("tcp1", "1 stream"), ("tcp4", "4 streams")):
            c = val(lambda: tcp(s, r, t)["cpu_gb"])
            bp, bv = best_peer(r, lambda p: tcp(p, r, t)["cpu_gb"], lower=True)
            if c is not None and bv is not None:
                rows.append((f"{s} CPU per GB lower than every userspace peer ({n})", r,
                             f"{c:.1f} vs {bv:.1f} s/GB ({bp})", c < bv))
print("Goals of issue 15 measured by this run (each ratio within one round):")
print()
print("| goal | round | measured | verdict |")
print("|---|---:|---|---|")
for goal, r, m, good in rows:
    print(f"| {goal} | {r} | {m} | {'met' if good else '**not met**'} |")
