#!/usr/bin/env python3
# The kernel-side TCP peer of the interop suite (test/interop): a Linux socket that runs a small
# script of actions against synack and reports what happened as JSON lines on stdout.
#
#   peer.py server ADDR PORT ACTIONS...   listen on ADDR:PORT, accept one connection, run ACTIONS
#   peer.py client ADDR PORT ACTIONS...   connect to ADDR:PORT, run ACTIONS
#
# Actions, in order:  recv (read to EOF, hashing)  send:N (N random bytes, hashing)
#                     shutdown (SHUT_WR)  close
# Events: {"event":"listening"} {"event":"connected","local":..,"peer":..}
#         {"event":"error","error":"ECONNREFUSED"|...} {"event":"done","received":..,"recv_sha256":..,
#         "sent":..,"sent_sha256":..,"local":..,"peer":..}
import errno
import hashlib
import json
import os
import socket
import sys


def emit(**kv):
    print(json.dumps(kv), flush=True)


def name(addr):
    return f"[{addr[0]}]:{addr[1]}" if ":" in addr[0] else f"{addr[0]}:{addr[1]}"


def main():
    role, addr, port, actions = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    if role == "server":
        ls = socket.socket(family, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, port))
        ls.listen(8)
        emit(event="listening")
        ls.settimeout(60)
        s, _ = ls.accept()
        ls.close()
    else:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(30)
        try:
            s.connect((addr, port))
        except OSError as e:
            emit(event="error", error=errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__)
            return
    s.settimeout(60)
    local, peer = name(s.getsockname()), name(s.getpeername())
    emit(event="connected", local=local, peer=peer)
    received, sent = 0, 0
    rh, sh = hashlib.sha256(), hashlib.sha256()
    for a in actions:
        if a == "recv":
            while True:
                b = s.recv(1 << 20)
                if not b:
                    break
                received += len(b)
                rh.update(b)
        elif a.startswith("send:"):
            left = int(a[5:])
            while left > 0:
                b = os.urandom(min(left, 1 << 20))
                sh.update(b)
                s.sendall(b)
                sent += len(b)
                left -= len(b)
        elif a == "shutdown":
            s.shutdown(socket.SHUT_WR)
        elif a == "close":
            s.close()
        else:
            raise SystemExit(f"unknown action {a}")
    emit(event="done", received=received, recv_sha256=rh.hexdigest(), sent=sent, sent_sha256=sh.hexdigest(), local=local, peer=peer)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report, so the test shows why rather than a timeout
        emit(event="error", error=f"{type(e).__name__}: {e}")
        sys.exit(1)
