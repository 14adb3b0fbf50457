#!/usr/bin/env python3
"""Writes the binary seed corpora of the ttrpc fuzz targets (ttrpc_wire, ttrpc_server, shim_ttrpc)
into fuzz/corpus/<target>/, protobuf encoded by hand (no generated code needed).
Run from anywhere: python3 fuzz/corpus/gen_ttrpc_seeds.py"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


# --- protobuf wire format -----------------------------------------------------------------------
def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire_type):
    return varint(field << 3 | wire_type)


def vfield(field, n):
    return key(field, 0) + varint(n)


def bfield(field, data):
    if isinstance(data, str):
        data = data.encode()
    return key(field, 2) + varint(len(data)) + data


def msg(*fields):
    return b"".join(fields)


def any_(type_url, value):
    return msg(bfield(1, type_url), bfield(2, value))


def timestamp(seconds, nanos=0):
    return msg(vfield(1, seconds), vfield(2, nanos) if nanos else b"")


# --- ttrpc --------------------------------------------------------------------------------------
NS_KEY = "containerd-namespace-ttrpc"


def request(service, method, payload=b"", timeout=0, metadata=((NS_KEY, "default"),)):
    out = bfield(1, service) + bfield(2, method)
    if payload:
        out += bfield(3, payload)
    if timeout:
        out += vfield(4, timeout)
    for k, v in metadata:
        out += bfield(5, msg(bfield(1, k), bfield(2, v)))
    return out


def frame(stream_id, body, type_=1, flags=0, length=None):
    return struct.pack(">IIBB", len(body) if length is None else length, stream_id, type_, flags) + body


def status(code, message):
    return msg(vfield(1, code), bfield(2, message))


def response(status_bytes=b"", payload=b""):
    out = b""
    if status_bytes:
        out += bfield(1, status_bytes)
    if payload:
        out += bfield(2, payload)
    return out


# --- events -------------------------------------------------------------------------------------
EVENTS = "containerd.services.events.ttrpc.v1.Events"


def task_exit(cid="c1", pid=42, status_=137):
    return msg(bfield(1, cid), bfield(2, cid), vfield(3, pid), vfield(4, status_), bfield(5, timestamp(1700000001, 7)))


def envelope(topic, event, ns="default", ts=(1700000000, 5)):
    out = b""
    if ts:
        out += bfield(1, timestamp(*ts))
    if ns is not None:
        out += bfield(2, ns)
    if topic is not None:
        out += bfield(3, topic)
    if event is not None:
        out += bfield(4, event)
    return out


def forward(env):
    return bfield(1, env)


def forward_frame(stream_id, env, **kw):
    return frame(stream_id, request(EVENTS, "Forward", forward(env), **kw))


EXIT_ANY = any_("containerd.events.TaskExit", task_exit())
OOM_ANY = any_("containerd.events.TaskOOM", bfield(1, "c1"))
CREATE_ANY = any_("type.googleapis.com/containerd.events.TaskCreate",
                  msg(bfield(1, "c2"), bfield(2, "/run/berth/io.containerd.runtime.v2.task/default/c2"),
                      bfield(3, msg(bfield(1, "overlay"), bfield(2, "overlay"), bfield(4, "lowerdir=/a"))),
                      bfield(4, msg(bfield(1, "/fifo/in"), bfield(2, "/fifo/out"))), vfield(6, 4242)))


# --- the shim's task service: records `method:u8 length:u16le payload` ------------------------
METHODS = ["State", "Create", "Start", "Delete", "Pids", "Pause", "Resume", "Checkpoint", "Kill", "Exec",
           "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect", "Shutdown", "Bogus", "v3.State"]


def rec(method, payload=b""):
    return bytes([METHODS.index(method)]) + struct.pack("<H", len(payload)) + payload


def id_req(cid, exec_id=""):
    return bfield(1, cid) + (bfield(2, exec_id) if exec_id else b"")


def create_req(cid, checkpoint="", stdio=("", "", ""), terminal=False, options=b"", rootfs=()):
    out = bfield(1, cid) + bfield(2, "/run/containerd/io.containerd.runtime.v2.task/default/" + cid)
    for m in rootfs:
        out += bfield(3, m)
    if terminal:
        out += vfield(4, 1)
    for f, p in zip((5, 6, 7), stdio):
        if p:
            out += bfield(f, p)
    if checkpoint:
        out += bfield(8, checkpoint)
    if options:
        out += bfield(10, options)
    return out


SPEC_ANY = any_("types.containerd.io/opencontainers/runtime-spec/1/Process",
                b'{"args":["sh","-c","echo hi"],"cwd":"/","env":["PATH=/bin"],"user":{"uid":0,"gid":0}}')


def exec_req(cid, exec_id, spec=SPEC_ANY, stdio=("", "", ""), terminal=False):
    out = bfield(1, cid) + bfield(2, exec_id)
    if terminal:
        out += vfield(3, 1)
    for f, p in zip((4, 5, 6), stdio):
        if p:
            out += bfield(f, p)
    if spec:
        out += bfield(7, spec)
    return out


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def wire_seeds():
    t = "ttrpc_wire"
    write(t, "empty.bin", b"")
    write(t, "request_create_with_metadata.bin",
          frame(1, request("containerd.task.v2.Task", "Create", create_req("c1"), timeout=5_000_000_000,
                           metadata=((NS_KEY, "default"), ("k", "a"), ("k", "b"))))[10:])
    write(t, "request_negative_timeout.bin", request("s", "m", b"\0\1\2 binary", timeout=-42))
    write(t, "request_unknown_fields.bin",
          request("s", "m", metadata=()) + b"\x48\x96\x01" + b"\x51" + bytes(range(1, 9)) + b"\x5a\x03xyz"
          + b"\x2a\x05\x0a\x01k\x18\x01")
    write(t, "request_truncated_string.bin", b"\x0a\x05a")
    write(t, "request_absurd_length.bin", b"\x0a\xff\xff\xff\xff\x0f")
    write(t, "request_field_zero.bin", b"\x00\x00")
    write(t, "request_wire_type_7.bin", b"\x07")
    write(t, "request_metadata_overrun.bin", b"\x2a\x03\x0a\x05k")
    write(t, "response_ok_payload.bin", response(payload=b"data"))
    write(t, "response_not_found.bin", response(status(5, 'container "c1": not found')))
    write(t, "response_deadline_grpc_text.bin", response(status(4, "Deadline Exceeded")))
    write(t, "response_permission_denied.bin", response(status(7, "no")))
    write(t, "response_kind_only.bin", response(status(14, "unavailable")))
    write(t, "response_double_suffix.bin", response(status(5, "x: not found: not found")))
    write(t, "response_status_with_details.bin",
          response(status(9, "failed precondition") + bfield(3, any_("type.googleapis.com/google.rpc.DebugInfo", b"\x0a\x01x"))))
    write(t, "response_status_truncated.bin", b"\x0a\x02\x08")
    write(t, "response_bad_utf8_message.bin", response(status(2, b"\xff\xfe")))
    write(t, "status_internal.bin", status(13, "ttrpc: request was not answered"))
    write(t, "header_big_endian.bin", bytes([1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D, 2, 0x7F]))
    write(t, "header_max_length.bin", struct.pack(">IIBB", 0xFFFFFFFF, 0xFFFFFFFF, 0xFF, 0xFF))
    write(t, "frame_forward_task_exit.bin", forward_frame(1, envelope("/tasks/exit", EXIT_ANY)))


def server_seeds():
    t = "ttrpc_server"
    write(t, "empty.bin", b"")
    write(t, "forward_task_exit.bin", forward_frame(1, envelope("/tasks/exit", EXIT_ANY), timeout=5_000_000_000))
    write(t, "forward_create_start_exit.bin",
          forward_frame(1, envelope("/tasks/create", CREATE_ANY))
          + forward_frame(3, envelope("/tasks/start", any_("containerd.events.TaskStart", bfield(1, "c2") + vfield(2, 4242))))
          + forward_frame(5, envelope("/tasks/exit", EXIT_ANY)))
    write(t, "forward_oom.bin", forward_frame(7, envelope("/tasks/oom", OOM_ANY, ns="k8s.io")))
    write(t, "forward_bad_topic.bin", forward_frame(1, envelope("tasks/exit", EXIT_ANY)))
    write(t, "forward_topic_bad_component.bin", forward_frame(1, envelope("/tasks/-exit", EXIT_ANY)))
    write(t, "forward_bad_namespace.bin", forward_frame(1, envelope("/tasks/exit", EXIT_ANY, ns="-bad")))
    write(t, "forward_no_timestamp.bin", forward_frame(1, envelope("/tasks/exit", EXIT_ANY, ts=None)))
    write(t, "forward_no_event.bin", forward_frame(1, envelope("/tasks/exit", None)))
    write(t, "forward_unknown_event_type.bin",
          forward_frame(1, envelope("/tasks/exit", any_("containerd.events.Nope", b"\x0a\x02c1"))))
    write(t, "forward_event_garbage_value.bin",
          forward_frame(1, envelope("/tasks/exit", any_("containerd.events.TaskExit", b"\x0a\xff\xff"))))
    write(t, "forward_nested_any.bin",
          forward_frame(1, envelope("/tasks/exit", any_("google.protobuf.Any", EXIT_ANY))))
    write(t, "forward_invalid_utf8_topic.bin", forward_frame(1, envelope(b"/tasks/\xff", EXIT_ANY)))
    write(t, "forward_garbage_payload.bin", frame(1, request(EVENTS, "Forward", b"\x0a\x05\x08")))
    write(t, "unknown_service.bin", frame(1, request("containerd.task.v2.Task", "State", id_req("c1"))))
    write(t, "unknown_method.bin", frame(1, request(EVENTS, "Publish", b"")))
    write(t, "service_invalid_utf8.bin", frame(1, request(b"\xff\xfeevents", "Forward", b"")))
    write(t, "even_stream_id.bin", forward_frame(2, envelope("/tasks/exit", EXIT_ANY)))
    write(t, "zero_length_request.bin", frame(1, b""))
    write(t, "malformed_request_body.bin", frame(1, b"\x0a\x05a") + frame(3, b"\x07"))
    write(t, "response_and_unknown_types_ignored.bin",
          frame(1, response(payload=b"x"), type_=2) + frame(3, b"junk", type_=7, flags=0xFF)
          + forward_frame(5, envelope("/tasks/exit", EXIT_ANY)))
    write(t, "oversized_length_max.bin", frame(1, b"trailing bytes skipped", length=0xFFFFFFFF))
    write(t, "oversized_4mib_plus_1_then_frame.bin",
          frame(9, b"", type_=2, length=(4 << 20) + 1) + forward_frame(11, envelope("/tasks/exit", EXIT_ANY)))
    write(t, "truncated_header.bin", forward_frame(1, envelope("/tasks/exit", EXIT_ANY))[:5])
    write(t, "truncated_body.bin", forward_frame(1, envelope("/tasks/exit", EXIT_ANY))[:40])
    write(t, "frame_then_truncated.bin",
          forward_frame(1, envelope("/tasks/exit", EXIT_ANY)) + struct.pack(">IIBB", 100, 3, 1, 0) + b"x" * 20)
    write(t, "metadata_repeated_keys.bin",
          forward_frame(1, envelope("/tasks/exit", EXIT_ANY), metadata=((NS_KEY, "a"), (NS_KEY, "b"), ("", ""))))
    many = b"".join(forward_frame(2 * i + 1, envelope("/tasks/exit", any_("containerd.events.TaskExit", task_exit("c%d" % i, i, i))))
                    for i in range(60))
    write(t, "many_forwards.bin", many)
    write(t, "many_tiny_frames.bin", b"".join(frame(2 * i + 1, b"") for i in range(400)))


def shim_seeds():
    t = "shim_ttrpc"
    write(t, "empty.bin", b"")
    write(t, "connect_state_unknown.bin", rec("Connect", id_req("c1")) + rec("State", id_req("c1")))
    write(t, "create_plain_fails.bin",
          rec("Create", create_req("c1", stdio=("/fifo/c1-stdin", "/fifo/c1-stdout", "/fifo/c1-stderr")))
          + rec("State", id_req("c1")))
    write(t, "create_from_checkpoint_lifecycle.bin",
          rec("Create", create_req("c1", checkpoint="/var/lib/berth/tmpcheckpoints/c1",
                                   stdio=("", "/fifo/out", "/fifo/out")))
          + rec("State", id_req("c1")) + rec("Wait", id_req("c1")) + rec("Connect", id_req("c1"))
          + rec("Exec", exec_req("c1", "e1", stdio=("", "file:///logs/e1.log", "")))
          + rec("State", id_req("c1", "e1")) + rec("Wait", id_req("c1", "e1"))
          + rec("Start", id_req("c1", "e1")) + rec("Wait", id_req("c1", "e1"))
          + rec("Delete", id_req("c1", "e1")) + rec("Kill", id_req("c1") + vfield(3, 9) + vfield(4, 1))
          + rec("Pids", id_req("c1")) + rec("Stats", id_req("c1")) + rec("Shutdown", id_req("c1")))
    write(t, "create_restore_start.bin",
          rec("Create", create_req("c1", checkpoint="/ckpt", stdio=("/fifo/in", "/fifo/out", "/fifo/err")))
          + rec("Start", id_req("c1")) + rec("State", id_req("c1")))
    write(t, "exec_bad_json_spec.bin",
          rec("Create", create_req("c1", checkpoint="/ckpt"))
          + rec("Exec", exec_req("c1", "e1", spec=any_("x", b'{"args":[')))
          + rec("Exec", exec_req("c1", "e2", spec=any_("x", b"[1,2,3]")))
          + rec("Exec", exec_req("c1", "", spec=SPEC_ANY)))
    write(t, "exec_id_path_traversal.bin",
          rec("Create", create_req("c1", checkpoint="/ckpt"))
          + rec("Exec", exec_req("c1", "../../../tmp/evil")) + rec("Start", id_req("c1", "../../../tmp/evil")))
    write(t, "exec_duplicate_and_kill.bin",
          rec("Create", create_req("c1", checkpoint="/ckpt")) + rec("Exec", exec_req("c1", "e1"))
          + rec("Exec", exec_req("c1", "e1")) + rec("Kill", id_req("c1", "e1") + vfield(3, 15))
          + rec("ResizePty", id_req("c1", "e1") + vfield(3, 80) + vfield(4, 24))
          + rec("CloseIO", id_req("c1", "e1") + vfield(3, 1)))
    write(t, "create_twice_already_exists.bin",
          rec("Create", create_req("c1", checkpoint="/ckpt")) + rec("Create", create_req("c1", checkpoint="/ckpt")))
    runc_opts = any_("containerd.runc.v1.Options", bfield(6, "runc") + bfield(7, "/run/containerd/runc") + bfield(8, "criu"))
    write(t, "create_with_runc_options.bin", rec("Create", create_req("c1", checkpoint="/ckpt", options=runc_opts)))
    write(t, "create_with_bad_options.bin",
          rec("Create", create_req("c1", options=any_("containerd.linux.runc.RuncOptions", b"\x0a\x01x"))))
    write(t, "create_with_rootfs_mounts.bin",
          rec("Create", create_req("c1", checkpoint="/ckpt",
                                   rootfs=[msg(bfield(1, "overlay"), bfield(2, "overlay"), bfield(4, "lowerdir=/l,upperdir=/u,workdir=/w")),
                                           msg(bfield(1, "bind"), bfield(2, "/"), bfield(4, "rbind"))])))
    write(t, "create_terminal_unsupported_scheme.bin",
          rec("Create", create_req("c1", checkpoint="/ckpt", terminal=True, stdio=("binary:///x", "binary:///x", "")))
          + rec("Start", id_req("c1")))
    write(t, "pause_resume_checkpoint_update.bin",
          rec("Create", create_req("c1", checkpoint="/ckpt")) + rec("Pause", id_req("c1")) + rec("Resume", id_req("c1"))
          + rec("Checkpoint", bfield(1, "c1") + bfield(2, "/tmp/image") + bfield(3, any_("containerd.runc.v1.CheckpointOptions", vfield(1, 1))))
          + rec("Update", bfield(1, "c1") + bfield(2, any_("x", b'{"memory":{"limit":1048576}}'))))
    write(t, "delete_init_and_unknown_exec.bin",
          rec("Create", create_req("c1", checkpoint="/ckpt")) + rec("Delete", id_req("c1"))
          + rec("Delete", id_req("c1", "nope")) + rec("Wait", id_req("c1", "nope")) + rec("State", id_req("c2")))
    write(t, "shutdown_when_empty.bin", rec("Shutdown", bfield(1, "c1") + vfield(2, 1)))
    write(t, "bogus_method_and_service.bin", rec("Bogus", b"") + rec("v3.State", id_req("c1")))
    write(t, "malformed_payloads.bin",
          rec("Create", b"\x0a\x05a") + rec("Kill", b"\x18") + rec("Wait", b"\x07") + rec("Exec", b"\x12\xff\xff"))
    write(t, "invalid_utf8_id.bin", rec("State", bfield(1, b"\xff\xfe")) + rec("Create", bfield(1, b"c\xc0\x80")))
    write(t, "truncated_record.bin", bytes([METHODS.index("Create"), 0xFF, 0x00]) + create_req("c1")[:10])
    write(t, "fork_budget_exceeded.bin", b"".join(rec("Kill", id_req("c1")) for _ in range(8)))


def main():
    wire_seeds()
    server_seeds()
    shim_seeds()


if __name__ == "__main__":
    main()
