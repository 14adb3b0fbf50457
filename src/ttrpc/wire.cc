#include "ttrpc/wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "common/grpc_codes.h"
#include "google/rpc/status.pb.h"

namespace berth::ttrpc {

namespace {
void PutBE32(uint32_t v, uint8_t* out) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}
uint32_t GetBE32(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}
}  // namespace

void EncodeHeader(const FrameHeader& h, uint8_t out[kHeaderLength]) {
  PutBE32(h.length, out);
  PutBE32(h.stream_id, out + 4);
  out[8] = h.type;
  out[9] = h.flags;
}

FrameHeader DecodeHeader(const uint8_t in[kHeaderLength]) {
  return FrameHeader{.length = GetBE32(in), .stream_id = GetBE32(in + 4), .type = in[8], .flags = in[9]};
}

}  // namespace berth::ttrpc

// --- Request / Response messages -----------------------------------------------------------
// Encoded by hand with protobuf's wire-format primitives: the messages are tiny (ttrpc's
// types.go), and a private .proto would add a codegen step for five fields.

namespace berth::ttrpc {

namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;
using google::protobuf::internal::WireFormatLite;

constexpr int kLengthDelimited = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
constexpr int kVarint = WireFormatLite::WIRETYPE_VARINT;

void PutBytes(CodedOutputStream& out, int field, std::string_view value) {
  out.WriteTag(WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  out.WriteVarint32(static_cast<uint32_t>(value.size()));
  out.WriteRaw(value.data(), static_cast<int>(value.size()));
}

// Reads a length-delimited field's bytes; false on a truncated or over-long field.
bool GetBytes(CodedInputStream& in, std::string* out) {
  uint32_t len = 0;
  if (!in.ReadVarint32(&len)) return false;
  if (len > kMaxMessageLength) return false;
  return in.ReadString(out, static_cast<int>(len));
}

Status Malformed(std::string_view what) {
  return Status(Errc::kInvalidArgument, fmt::format("malformed ttrpc {}", what));
}

// One KeyValue{key=1, value=2}: `in` holds exactly its bytes.
bool GetKeyValue(CodedInputStream& in, std::string* key, std::string* value) {
  while (uint32_t tag = in.ReadTag()) {
    int field = WireFormatLite::GetTagFieldNumber(tag);
    int type = WireFormatLite::GetTagWireType(tag);
    if ((field == 1 || field == 2) && type == kLengthDelimited) {
      if (!GetBytes(in, field == 1 ? key : value)) return false;
    } else if (field == 1 || field == 2 || !WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return in.ConsumedEntireMessage();
}

}  // namespace

std::string EncodeRequest(const Request& r) {
  std::string bytes;
  {
    StringOutputStream raw(&bytes);
    CodedOutputStream out(&raw);
    if (!r.service.empty()) PutBytes(out, 1, r.service);
    if (!r.method.empty()) PutBytes(out, 2, r.method);
    if (!r.payload.empty()) PutBytes(out, 3, r.payload);
    if (r.timeout_nano != 0) {
      out.WriteTag(WireFormatLite::MakeTag(4, WireFormatLite::WIRETYPE_VARINT));
      out.WriteVarint64(static_cast<uint64_t>(r.timeout_nano));
    }
    for (const auto& [key, value] : r.metadata) {
      std::string kv;
      {
        StringOutputStream kv_raw(&kv);
        CodedOutputStream kv_out(&kv_raw);
        PutBytes(kv_out, 1, key);
        PutBytes(kv_out, 2, value);
      }
      PutBytes(out, 5, kv);
    }
  }
  return bytes;
}

Result<Request> DecodeRequest(std::string_view bytes) {
  Request r;
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  while (uint32_t tag = in.ReadTag()) {
    int field = WireFormatLite::GetTagFieldNumber(tag);
    int type = WireFormatLite::GetTagWireType(tag);
    switch (field) {
      case 1:
      case 2:
      case 3: {
        std::string* dst = field == 1 ? &r.service : field == 2 ? &r.method : &r.payload;
        if (type != kLengthDelimited || !GetBytes(in, dst)) return Malformed("request");
        break;
      }
      case 4: {
        uint64_t v = 0;
        if (type != kVarint || !in.ReadVarint64(&v)) return Malformed("request timeout");
        r.timeout_nano = static_cast<int64_t>(v);
        break;
      }
      case 5: {
        std::string kv;
        if (type != kLengthDelimited || !GetBytes(in, &kv)) return Malformed("request metadata");
        CodedInputStream kv_in(reinterpret_cast<const uint8_t*>(kv.data()), static_cast<int>(kv.size()));
        std::string key, value;
        if (!GetKeyValue(kv_in, &key, &value)) return Malformed("request metadata");
        r.metadata.emplace(std::move(key), std::move(value));
        break;
      }
      default:
        if (!WireFormatLite::SkipField(&in, tag)) return Malformed("request");
    }
  }
  if (!in.ConsumedEntireMessage()) return Malformed("request");
  return r;
}

std::string EncodeResponse(const Response& r) {
  std::string bytes;
  {
    StringOutputStream raw(&bytes);
    CodedOutputStream out(&raw);
    if (!r.status.ok()) {
      google::rpc::Status st;
      ToRpcStatus(r.status, &st);
      PutBytes(out, 1, st.SerializeAsString());
    }
    if (!r.payload.empty()) PutBytes(out, 2, r.payload);
  }
  return bytes;
}

Result<Response> DecodeResponse(std::string_view bytes) {
  Response r;
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  while (uint32_t tag = in.ReadTag()) {
    int field = WireFormatLite::GetTagFieldNumber(tag);
    int type = WireFormatLite::GetTagWireType(tag);
    if (field == 1) {
      std::string st_bytes;
      if (type != kLengthDelimited || !GetBytes(in, &st_bytes)) return Malformed("response status");
      google::rpc::Status st;
      if (!st.ParseFromString(st_bytes)) return Malformed("response status");
      r.status = FromRpcStatus(st);
    } else if (field == 2) {
      if (type != kLengthDelimited || !GetBytes(in, &r.payload)) return Malformed("response");
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return Malformed("response");
    }
  }
  if (!in.ConsumedEntireMessage()) return Malformed("response");
  return r;
}

void ToRpcStatus(const Status& s, google::rpc::Status* out) {
  out->Clear();
  if (s.ok()) return;
  out->set_code(GrpcCodeFromErrc(s.code()));
  out->set_message(s.ToString());
}

Status FromRpcStatus(const google::rpc::Status& s) {
  return StatusFromGrpc(s.code(), s.message());
}

}  // namespace berth::ttrpc
