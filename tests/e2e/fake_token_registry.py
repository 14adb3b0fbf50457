#!/usr/bin/env python3
"""A tiny registry behind Bearer token auth, for the registry client's end-to-end tests.

Serves one repository (--repo) on 127.0.0.1 (a free port, printed as "LISTENING <port>"):
  GET  /token?service=fake&scope=...   Basic --user/--password -> {"token": ..., "expires_in": 300}
  HEAD|GET /v2/<repo>/manifests/<tag or digest>   --manifest under --tag; HEAD gives no digest
  GET  /v2/<repo>/blobs/<digest>        --blob: the first unranged GET is cut after --cut bytes
                                        (connection closed); Range "bytes=N-" answers 206
  GET  /v2/<repo>/blobs/<digest of --redirect-blob>   307 to http://localhost:<port>/storage/...
  GET  /storage/<hex>                   the --redirect-blob bytes, no auth (like cloud storage)
Registry endpoints want "Authorization: Bearer <a token it issued>", else 401 with a challenge.
The first HEAD of a manifest answers 503 (Retry-After: 0), to exercise retries.
--tls-cert/--tls-key: https instead of http.
Every request is appended to --log as one JSON line {method, path, range, auth}.
"""
import argparse
import base64
import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--tag", default="v1")
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--media-type", default="application/vnd.oci.image.manifest.v1+json")
    ap.add_argument("--blob", required=True)
    ap.add_argument("--redirect-blob", required=True)
    ap.add_argument("--cut", type=int, default=1000)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--tls-cert", help="serve https with this PEM certificate (and --tls-key)")
    ap.add_argument("--tls-key")
    args = ap.parse_args()

    manifest = open(args.manifest, "rb").read()
    blob = open(args.blob, "rb").read()
    redirect_blob = open(args.redirect_blob, "rb").read()
    digest = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
    manifest_digest, blob_digest, redirect_digest = digest(manifest), digest(blob), digest(redirect_blob)
    expected_basic = "Basic " + base64.b64encode(f"{args.user}:{args.password}".encode()).decode()

    lock = threading.Lock()
    state = {"tokens": set(), "issued": 0, "blob_cut": False, "head_failed": False}
    prefix = f"/v2/{args.repo}/"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet
            pass

        def record(self):
            auth = self.headers.get("Authorization", "")
            entry = {"method": self.command, "path": self.path, "range": self.headers.get("Range", ""),
                     "auth": auth.split(" ")[0] if auth else ""}
            with lock, open(args.log, "a") as f:
                f.write(json.dumps(entry) + "\n")

        def reply(self, code, body=b"", headers=None, head=False):
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def authorized(self):
            auth = self.headers.get("Authorization", "")
            with lock:
                ok = auth.startswith("Bearer ") and auth[7:] in state["tokens"]
            if not ok:
                port = self.server.server_address[1]
                challenge = (f'Bearer realm="{scheme}://127.0.0.1:{port}/token",service="fake",'
                             f'scope="repository:{args.repo}:pull"')
                self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                           {"WWW-Authenticate": challenge, "Content-Type": "application/json"},
                           head=self.command == "HEAD")
            return ok

        def do_HEAD(self):
            self.handle_any(head=True)

        def do_GET(self):
            self.handle_any(head=False)

        def handle_any(self, head):
            self.record()
            path = self.path.split("?")[0]
            if path == "/token":
                if self.headers.get("Authorization", "") != expected_basic:
                    return self.reply(401, b'{"details":"bad credentials"}', head=head)
                with lock:
                    state["issued"] += 1
                    token = f"tok-{state['issued']}"
                    state["tokens"].add(token)
                return self.reply(200, json.dumps({"token": token, "expires_in": 300}).encode(),
                                  {"Content-Type": "application/json"}, head=head)
            if path.startswith("/storage/"):
                if path[len("/storage/"):] != redirect_digest[7:]:
                    return self.reply(404, head=head)
                return self.reply(200, redirect_blob, {"Content-Type": "application/octet-stream"}, head=head)
            if not path.startswith(prefix):
                return self.reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}', head=head)
            if not self.authorized():
                return
            rest = path[len(prefix):]
            if rest in (f"manifests/{args.tag}", f"manifests/{manifest_digest}"):
                if head:
                    with lock:
                        first = not state["head_failed"]
                        state["head_failed"] = True
                    if first:
                        return self.reply(503, b"", {"Retry-After": "0"}, head=True)
                    # No Docker-Content-Digest: the client must GET and hash.
                    return self.reply(200, manifest, {"Content-Type": args.media_type}, head=True)
                return self.reply(200, manifest, {"Content-Type": args.media_type,
                                                  "Docker-Content-Digest": manifest_digest})
            if rest == f"blobs/{redirect_digest}":
                port = self.server.server_address[1]
                return self.reply(307, b"", {"Location": f"{scheme}://localhost:{port}/storage/{redirect_digest[7:]}"},
                                  head=head)
            if rest == f"blobs/{blob_digest}":
                rng = self.headers.get("Range", "")
                if rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    body = blob[start:]
                    return self.reply(206, body, {"Content-Range": f"bytes {start}-{len(blob) - 1}/{len(blob)}",
                                                  "Content-Type": "application/octet-stream"}, head=head)
                with lock:
                    cut = not state["blob_cut"] and not head
                    state["blob_cut"] = True
                if cut:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(blob)))
                    self.end_headers()
                    self.wfile.write(blob[:args.cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                return self.reply(200, blob, {"Content-Type": "application/octet-stream"}, head=head)
            return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}', head=head)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    scheme = "http"
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    print(f"LISTENING {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
