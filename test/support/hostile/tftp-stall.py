#!/usr/bin/env python3
"""TFTP read requests that are never acknowledged, one per source address.

  tftp-stall.py HOST FILE SECONDS SOURCE...

Each asks for FILE with the option timeout=255 (RFC 2349's longest) and then stays
silent, its socket open so that the server's retransmissions meet no ICMP error either.
Prints "ready" and a JSON object once every request has been answered or a second has
passed: how many requests the server took (OACK), refused (ERROR) or left unanswered."""

import json
import socket
import sys
import time

host, name, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
rrq = b"\0\1" + name.encode() + b"\0octet\0timeout\0" + b"255\0"
socks = []
for source in sys.argv[4:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.sendto(rrq, (host, 69))
    socks.append(s)
counts = {"oack": 0, "error": 0, "silent": 0}
for s in socks:
    s.settimeout(1)
    try:
        opcode = s.recv(1024)[1]
        counts["oack" if opcode == 6 else "error"] += 1
    except TimeoutError:
        counts["silent"] += 1
print("ready", json.dumps(counts), flush=True)
time.sleep(seconds)
