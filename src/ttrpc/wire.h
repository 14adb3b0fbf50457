// containerd's ttrpc wire format: a 10-byte frame header (big-endian uint32 length,
// big-endian uint32 stream id, uint8 type, uint8 flags) followed by `length` bytes of a
// protobuf Request (type 1, client -> server) or Response (type 2). Client stream ids are
// odd, starting at 1. Messages are limited to 4 MiB. Errors travel as google.rpc.Status
// with gRPC code numbers, exactly as containerd's errdefs map them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace google::rpc { class Status; }

namespace berth::ttrpc {

inline constexpr size_t kHeaderLength = 10;
inline constexpr uint32_t kMaxMessageLength = 4 << 20;

enum class MessageType : uint8_t { kRequest = 1, kResponse = 2 };

struct FrameHeader {
  uint32_t length = 0;
  uint32_t stream_id = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
};

void EncodeHeader(const FrameHeader& h, uint8_t out[kHeaderLength]);
FrameHeader DecodeHeader(const uint8_t in[kHeaderLength]);

// Request metadata: ttrpc sends repeated KeyValue; a key may repeat.
using Metadata = std::multimap<std::string, std::string>;

// The metadata key that carries the containerd namespace over ttrpc.
inline constexpr const char* kNamespaceKey = "containerd-namespace-ttrpc";

struct Request {
  std::string service;  // "containerd.task.v2.Task"
  std::string method;   // "Create"
  std::string payload;  // the serialized request message
  int64_t timeout_nano = 0;
  Metadata metadata;
};

struct Response {
  Status status;        // ok, or the error the handler returned
  std::string payload;  // the serialized response message (when ok)
};

std::string EncodeRequest(const Request& r);
Result<Request> DecodeRequest(std::string_view bytes);  // InvalidArgument when malformed
std::string EncodeResponse(const Response& r);
Result<Response> DecodeResponse(std::string_view bytes);

// berth::Status <-> google.rpc.Status with containerd's errdefs <-> gRPC code mapping; the
// message is Status::ToString() on the way out, and the kind suffix is understood on the way in.
void ToRpcStatus(const Status& s, google::rpc::Status* out);
Status FromRpcStatus(const google::rpc::Status& s);

}  // namespace berth::ttrpc
