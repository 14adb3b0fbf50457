#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that slows the answers of a server down to a byte rate, so a test can
interrupt a download half way. Usage: throttle_proxy.py TARGET_PORT BYTES_PER_SECOND
Prints the port it listens on, then serves until killed."""
import socket
import sys
import threading
import time

target_port = int(sys.argv[1])
rate = int(sys.argv[2])


def pump(src, dst, limit):
    try:
        while True:
            data = src.recv(16384 if limit else 65536)
            if not data:
                break
            dst.sendall(data)
            if limit:
                time.sleep(len(data) / limit)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    upstream = socket.create_connection(("127.0.0.1", target_port))
    threading.Thread(target=pump, args=(client, upstream, 0), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, rate), daemon=True).start()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
