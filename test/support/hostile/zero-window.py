#!/usr/bin/env python3
"""Silent zero-window peers, from raw Ethernet frames on an interface (AF_PACKET).

  zero-window.py IFACE DEVICE_IP DEVICE_MAC COUNT PORT [PATH]

Peer i speaks from 198.18.0.(i+1), an address off the subnet: the device answers through
its gateway, the kernel beside us, which does not forward and so drops those answers
without a reset or an ICMP error. Each peer completes the handshake with a zero window,
sends `GET PATH` (HTTP) when given one, and is silent from then on: the device's persist
probes go unanswered. Prints one JSON line: how many peers the device took, their
handshake and request acknowledged."""

import json
import random
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
SYN, ACK, PSH = 0x02, 0x10, 0x08


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Link:
    def __init__(self, iface: str, device_ip: str, device_mac: str):
        with open(f"/sys/class/net/{iface}/address") as f:
            our_mac = f.read().strip()
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self.sock.bind((iface, 0))
        self.eth = bytes.fromhex(device_mac.replace(":", "")) + bytes.fromhex(our_mac.replace(":", "")) + struct.pack("!H", ETH_P_IP)
        self.device = socket.inet_aton(device_ip)

    def send(self, src: bytes, sport: int, dport: int, seq: int, ack: int, flags: int, window: int, options=b"", payload=b""):
        offset = (20 + len(options)) // 4
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack, offset << 4, flags, window, 0, 0) + options + payload
        pseudo = src + self.device + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000, 64, socket.IPPROTO_TCP, 0, src, self.device)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        self.sock.send(self.eth + ip + tcp)

    def receive(self, dst: bytes, dport: int, deadline: float):
        """The next segment from the device to (dst, dport): (flags, seq, ack), or None at the deadline."""
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                frame = self.sock.recv(2048)
            except TimeoutError:
                return None
            ip = frame[14:]
            if len(ip) < 40 or ip[9] != socket.IPPROTO_TCP or ip[12:16] != self.device or ip[16:20] != dst:
                continue
            tcp = ip[(ip[0] & 0x0F) * 4 :]
            _, port, seq, ack, _, flags = struct.unpack("!HHIIBB", tcp[:14])
            if port == dport:
                return flags, seq, ack
        return None


def peer(link: Link, i: int, port: int, path: str | None) -> bool:
    src = bytes([198, 18, 0, i + 1])
    sport = 40000 + i
    iss = random.getrandbits(32)
    mss = struct.pack("!BBH", 2, 4, 536)
    for _ in range(3):  # the SYN again if the SYN-ACK is late
        link.send(src, sport, port, iss, 0, SYN, 1024, mss)
        got = link.receive(src, sport, time.monotonic() + 1)
        if got and got[0] & (SYN | ACK) == SYN | ACK and got[2] == (iss + 1) & 0xFFFFFFFF:
            break
    else:
        return False
    rcv = (got[1] + 1) & 0xFFFFFFFF
    link.send(src, sport, port, iss + 1, rcv, ACK, 0)
    if path is None:
        return True
    request = f"GET {path} HTTP/1.1\r\nHost: device\r\n\r\n".encode()
    link.send(src, sport, port, iss + 1, rcv, PSH | ACK, 0, payload=request)
    end = (iss + 1 + len(request)) & 0xFFFFFFFF
    deadline = time.monotonic() + 2
    while got := link.receive(src, sport, deadline):
        if got[0] & ACK and got[2] == end:
            return True
    return False


def main():
    iface, device_ip, device_mac, count, port = sys.argv[1:6]
    path = sys.argv[6] if len(sys.argv) > 6 else None
    link = Link(iface, device_ip, device_mac)
    print(json.dumps({"taken": sum(peer(link, i, int(port), path) for i in range(int(count)))}))


main()
