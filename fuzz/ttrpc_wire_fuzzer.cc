// Fuzz target: containerd's ttrpc wire format as berth decodes what a peer sends
// (src/ttrpc/wire.h). The input is read four ways:
//   - its first 10 bytes as a frame header: EncodeHeader(DecodeHeader(h)) == h;
//   - as a Request body (what a ttrpc server receives): when DecodeRequest accepts it, the
//     request re-encodes to bytes that decode to the same request, and encoding is canonical
//     (a second encode gives the same bytes); a refusal is InvalidArgument;
//   - as a Response body (what a ttrpc client receives): when DecodeResponse accepts it, the
//     response re-encodes to bytes that decode to the same status (kind and message) and payload;
//   - as a google.rpc.Status: FromRpcStatus(ToRpcStatus(FromRpcStatus(s))) == FromRpcStatus(s),
//     i.e. the errdefs kind suffix is stripped once and never eats into the message again.
#include <google/protobuf/stubs/logging.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "google/rpc/status.pb.h"
#include "ttrpc/wire.h"

namespace berth::ttrpc {
namespace {

bool SameRequest(const Request& a, const Request& b) {
  return a.service == b.service && a.method == b.method && a.payload == b.payload &&
         a.timeout_nano == b.timeout_nano && a.metadata == b.metadata;
}

bool SameStatus(const Status& a, const Status& b) { return a.code() == b.code() && a.message() == b.message(); }

void CheckHeader(const uint8_t* data, size_t size) {
  if (size < kHeaderLength) return;
  FrameHeader h = DecodeHeader(data);
  uint8_t out[kHeaderLength];
  EncodeHeader(h, out);
  FUZZ_CHECK(std::memcmp(out, data, kHeaderLength) == 0);
}

void CheckRequest(std::string_view bytes) {
  Result<Request> req = DecodeRequest(bytes);
  if (!req.ok()) {
    FUZZ_CHECK(req.status().code() == Errc::kInvalidArgument);
    return;
  }
  std::string encoded = EncodeRequest(*req);
  Result<Request> back = DecodeRequest(encoded);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(SameRequest(*req, *back));
  FUZZ_CHECK(EncodeRequest(*back) == encoded);
}

void CheckResponse(std::string_view bytes) {
  Result<Response> resp = DecodeResponse(bytes);
  if (!resp.ok()) {
    FUZZ_CHECK(resp.status().code() == Errc::kInvalidArgument);
    return;
  }
  std::string encoded = EncodeResponse(*resp);
  Result<Response> back = DecodeResponse(encoded);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(SameStatus(resp->status, back->status));
  FUZZ_CHECK(resp->payload == back->payload);
  FUZZ_CHECK(EncodeResponse(*back) == encoded);
}

void CheckRpcStatus(const uint8_t* data, size_t size) {
  google::rpc::Status wire;
  if (!wire.ParseFromArray(data, static_cast<int>(size))) return;
  Status status = FromRpcStatus(wire);
  google::rpc::Status again;
  ToRpcStatus(status, &again);
  FUZZ_CHECK(status.ok() == (again.code() == 0));
  if (status.ok()) FUZZ_CHECK(again.message().empty());
  FUZZ_CHECK(SameStatus(FromRpcStatus(again), status));
}

}  // namespace
}  // namespace berth::ttrpc

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Invalid UTF-8 in a proto3 string is refused with a log line per input: keep stderr quiet.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > INT_MAX) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  berth::ttrpc::CheckHeader(data, size);
  berth::ttrpc::CheckRequest(bytes);
  berth::ttrpc::CheckResponse(bytes);
  berth::ttrpc::CheckRpcStatus(data, size);
  return 0;
}
