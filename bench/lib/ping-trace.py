#!/usr/bin/env python3
"""Where a ping's round trip through vl2 goes, hop by hop (bench/latency.sh --trace).

  ping-trace.py capture IFACE FILE     # in a namespace: kernel timestamps of ICMP echo and UDP frames on IFACE
                                       # until SIGTERM/SIGINT (then what is queued), one line each:
                                       # ns pkttype kind key length
  ping-trace.py report H1_TAP SW_UL H2_TAP UL_H1 UL_SW UL_H2  # the per-hop table from the three captures

The timestamps are the kernel's (SO_TIMESTAMPNS on a packet socket: taken where the frame meets the device, on one
clock for every namespace), so the python reading them costs nothing on the path it measures. A ping at 5 ms
intervals crosses each capture point once each way, and each hop is the first frame of its kind at that point after
the previous hop's time: no frame numbering is needed in the sealed datagrams.
"""
import signal
import socket
import statistics
import struct
import sys
import time

ETH_P_ALL = 0x0003
SO_TIMESTAMPNS = 35
PACKET_OUTGOING = 4
# a ping of 56 data bytes is a 98-byte Ethernet frame; datagrams shorter than that are control messages
MIN_DATA = 98


def capture(iface, path):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setblocking(False)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    drained = False
    with open(path, "w") as out:
        print("ready", file=out, flush=True)
        while not stop or not drained:
            # read in batches between sleeps, never waiting in a receive: a frame queued on a socket nobody waits on
            # wakes no one, so the capture adds no wake-up to the path it times (the kernel stamped each frame when
            # it met the device)
            drained = False
            try:
                data, anc, _, addr = s.recvmsg(256, socket.CMSG_SPACE(16))
            except (BlockingIOError, InterruptedError):
                drained = True
                time.sleep(0.05)
                continue
            ns = None
            for level, kind, value in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", value[:16])
                    ns = sec * 1_000_000_000 + nsec
            if ns is None or len(data) < 34 or data[12:14] != b"\x08\x00":
                continue
            ihl = (data[14] & 15) * 4
            proto = data[23]
            src = socket.inet_ntoa(data[26:30])
            dst = socket.inet_ntoa(data[30:34])
            l4 = 14 + ihl
            if proto == 1 and len(data) >= l4 + 8 and data[l4] in (0, 8):
                kind = "req" if data[l4] == 8 else "rep"
                seq = struct.unpack("!H", data[l4 + 6:l4 + 8])[0]
                print(ns, addr[2], kind, seq, len(data), file=out)
            elif proto == 17 and len(data) >= l4 + 8:
                length = struct.unpack("!H", data[l4 + 4:l4 + 6])[0] - 8
                if length >= MIN_DATA:
                    print(ns, addr[2], "udp", f"{src}>{dst}", length, file=out)


def load(path):
    rows = []
    for line in open(path):
        f = line.split()
        if len(f) == 5:
            rows.append((int(f[0]), int(f[1]), f[2], f[3], int(f[4])))
    return rows


def report(h1, sw, h2, ul_h1, ul_sw, ul_h2):
    h1, sw, h2 = load(h1), load(sw), load(h2)
    # the request leaves h1's kernel onto h1's TAP (outgoing), ... the reply enters h1's kernel from h1's TAP
    req_out = {int(r[3]): r[0] for r in h1 if r[2] == "req" and r[1] == PACKET_OUTGOING}
    rep_in = {int(r[3]): r[0] for r in h1 if r[2] == "rep" and r[1] != PACKET_OUTGOING}
    h2_req_in = sorted(r[0] for r in h2 if r[2] == "req" and r[1] != PACKET_OUTGOING)
    h2_rep_out = sorted(r[0] for r in h2 if r[2] == "rep" and r[1] == PACKET_OUTGOING)
    udp = lambda s, d: sorted(r[0] for r in sw if r[2] == "udp" and r[3].startswith(s + ">") and r[3].endswith(">" + d))
    sw_in1, sw_out2 = udp(ul_h1, ul_sw), udp(ul_sw, ul_h2)
    sw_in2, sw_out1 = udp(ul_h2, ul_sw), udp(ul_sw, ul_h1)

    def first_after(series, t, limit):
        import bisect
        i = bisect.bisect_right(series, t)
        return series[i] if i < len(series) and series[i] - t < limit else None

    hops = ["h1 agent: TAP -> UDP out", "switch: request in -> out", "h2 agent: UDP in -> TAP",
            "h2 kernel: request -> reply on TAP", "h2 agent: TAP -> UDP out", "switch: reply in -> out",
            "h1 agent: UDP in -> TAP", "TAP to TAP on h1 (sum)"]
    per = [[] for _ in hops]
    for seq, t0 in sorted(req_out.items()):
        chain = [t0]
        for series in (sw_in1, sw_out2, h2_req_in, h2_rep_out, sw_in2, sw_out1):
            t = first_after(series, chain[-1], 2_000_000)
            if t is None:
                break
            chain.append(t)
        t8 = rep_in.get(seq)
        if len(chain) < 7 or t8 is None or t8 < chain[-1]:
            continue
        chain.append(t8)
        for i in range(7):
            per[i].append((chain[i + 1] - chain[i]) / 1000)
        per[7].append((t8 - t0) / 1000)
    n = len(per[7])
    print(f"{n} of {len(req_out)} pings traced; microseconds per hop (kernel timestamps at h1's TAP, the switch "
          "host's bridge, h2's TAP)")
    print()
    print("| hop | p10 | p50 | p90 | mean |")
    print("|---|---:|---:|---:|---:|")
    for name, xs in zip(hops, per):
        if not xs:
            continue
        xs = sorted(xs)
        q = lambda p: xs[min(len(xs) - 1, int(p * len(xs)))]
        print(f"| {name} | {q(.1):.1f} | {q(.5):.1f} | {q(.9):.1f} | {statistics.mean(xs):.1f} |")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "capture":
        capture(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 8 and sys.argv[1] == "report":
        report(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
