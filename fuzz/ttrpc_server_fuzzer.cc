// Fuzz target: berthd's ttrpc events endpoint (<socket>.ttrpc) as a shim reaches it. The input is
// the raw byte stream a shim writes on its connection: ttrpc frames with any lengths, stream ids,
// types and bodies, truncated or oversized. A ttrpc::Server (src/ttrpc/server.h, connection.h)
// with containerd.services.events.ttrpc.v1.Events/Forward registered exactly as
// RuntimeHost::Start registers it (src/server/runtime_host.cc: ForwardRequest decoded, its
// envelope re-read as an events::Envelope, validated and fanned out by an events::Exchange to a
// subscriber with no filter and one with a filter, so ProtoAdaptor unpacks the event Any) reads
// it from a connected unix socket; the peer then half-closes and the target waits for the server
// to close the connection. The EventLoop is driven on this thread (no thread, nothing kept across
// inputs).
//
// Invariants: the server answers exactly the frames ttrpc answers, in order, with their stream
// ids: every whole request frame (type 1) and every frame longer than 4 MiB (any type), and no
// other; every answer is a Response frame whose status is the one its request calls for
// (ResourceExhausted for an oversized frame, InvalidArgument for an undecodable request or an
// even stream id, NotImplemented for an unknown service or method, ok or InvalidArgument from
// Forward); each ok Forward publishes one envelope (the unfiltered subscriber sees each one);
// after the peer's EOF the server closes the connection and keeps none.
//
// One tolerance: the NotImplemented answer quotes the requested service or method name, so a
// name that is not UTF-8 yields a google.rpc.Status that protobuf (berth's client, like Go's)
// refuses to decode; that answer is only checked for its frame (a known limitation, reported).
#include <google/protobuf/empty.pb.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/filters.h"
#include "events/exchange.h"
#include "fuzz_check.h"
#include "github.com/containerd/containerd/api/events/container.pb.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "ttrpc/event_loop.h"
#include "ttrpc/server.h"
#include "ttrpc/wire.h"
#include "ttrpc_peer.h"

namespace berth::fuzz {
namespace {

namespace ttrpcevents = containerd::services::events::ttrpc::v1;

constexpr std::string_view kEventsService = "containerd.services.events.ttrpc.v1.Events";
constexpr std::string_view kForward = "Forward";
// A subscription filter as `ctr events` users write them: ProtoAdaptor reads the envelope's
// fields and the fields of the event inside its Any.
constexpr std::string_view kFilter = R"(topic~="^/tasks/",namespace==default|event.container_id~="^c"|event.id)";
constexpr int kMaxRounds = 100000;

// What the server owes one frame of the input.
struct Expected {
  enum Kind { kOversized, kBadRequest, kNotImplemented, kForwarded };
  uint32_t stream_id;
  Kind kind;
  bool names_utf8;  // service and method are UTF-8 (kNotImplemented quotes them)
};

bool Utf8(std::string_view s) {
  return google::protobuf::internal::IsStructurallyValidUTF8(s.data(), static_cast<int>(s.size()));
}

// The frames the server answers, as Connection::ParseFrames and Server::OnFrame treat the stream.
std::vector<Expected> ExpectedAnswers(std::string_view in) {
  std::vector<Expected> out;
  size_t pos = 0;
  while (in.size() - pos >= ttrpc::kHeaderLength) {
    ttrpc::FrameHeader h = ttrpc::DecodeHeader(reinterpret_cast<const uint8_t*>(in.data() + pos));
    pos += ttrpc::kHeaderLength;
    if (h.length > ttrpc::kMaxMessageLength) {
      // Answered at once; its body is skipped, which here is the rest of any input that fits.
      out.push_back({h.stream_id, Expected::kOversized, true});
      pos += std::min<size_t>(h.length, in.size() - pos);
      continue;
    }
    if (in.size() - pos < h.length) break;  // a frame cut short: never answered
    std::string_view body = in.substr(pos, h.length);
    pos += h.length;
    if (h.type != static_cast<uint8_t>(ttrpc::MessageType::kRequest)) continue;  // ignored
    Result<ttrpc::Request> req = ttrpc::DecodeRequest(body);
    if (!req.ok() || h.stream_id % 2 != 1) {
      out.push_back({h.stream_id, Expected::kBadRequest, true});
    } else if (req->service != kEventsService || req->method != kForward) {
      out.push_back({h.stream_id, Expected::kNotImplemented, Utf8(req->service) && Utf8(req->method)});
    } else {
      out.push_back({h.stream_id, Expected::kForwarded, true});
    }
  }
  return out;
}

// Events/Forward as RuntimeHost::Start registers it (oom_notify on).
void RegisterForward(ttrpc::Server& server, events::Exchange& exchange) {
  server.RegisterUnary<ttrpcevents::ForwardRequest, google::protobuf::Empty>(
      std::string(kEventsService), std::string(kForward),
      [&exchange](const ttrpc::CallContext&, const ttrpcevents::ForwardRequest& req) -> Result<google::protobuf::Empty> {
        events::Envelope env;
        if (!env.ParseFromString(req.envelope().SerializeAsString())) {
          return InvalidArgument("cannot decode event envelope");
        }
        BERTH_RETURN_IF_ERROR(exchange.Forward(env));
        return google::protobuf::Empty();
      });
}

size_t Drain(events::Subscription& sub) {
  size_t n = 0;
  events::Envelope env;
  while (sub.Next(std::chrono::milliseconds(0), &env) == events::Subscription::Wait::kEvent) ++n;
  return n;
}

void CheckAnswer(const Frame& f, const Expected& want, size_t* forwarded) {
  FUZZ_CHECK(f.header.type == static_cast<uint8_t>(ttrpc::MessageType::kResponse));
  FUZZ_CHECK(f.header.flags == 0);
  FUZZ_CHECK(f.header.stream_id == want.stream_id);
  FUZZ_CHECK(f.header.length <= ttrpc::kMaxMessageLength);
  Result<ttrpc::Response> resp = ttrpc::DecodeResponse(f.body);
  if (!resp.ok()) {
    // Only the NotImplemented answer that quotes a non-UTF-8 name may be undecodable.
    FUZZ_CHECK(want.kind == Expected::kNotImplemented && !want.names_utf8);
    return;
  }
  const Status& st = resp->status;
  switch (want.kind) {
    case Expected::kOversized:
      FUZZ_CHECK(st.code() == Errc::kResourceExhausted);
      break;
    case Expected::kBadRequest:
      FUZZ_CHECK(st.code() == Errc::kInvalidArgument);
      break;
    case Expected::kNotImplemented:
      FUZZ_CHECK(st.code() == Errc::kNotImplemented);
      break;
    case Expected::kForwarded:
      FUZZ_CHECK(st.ok() || st.code() == Errc::kInvalidArgument);
      if (st.ok()) {
        FUZZ_CHECK(resp->payload.empty());  // google.protobuf.Empty
        ++*forwarded;
      }
      break;
  }
  if (!st.ok()) FUZZ_CHECK(resp->payload.empty());
}

void Run(std::string_view input) {
  auto loop_or = ttrpc::EventLoop::Create();
  FUZZ_CHECK(loop_or.ok());
  ttrpc::EventLoop& loop = **loop_or;

  events::Exchange exchange;
  Result<filters::FilterPtr> filter = filters::Parse(kFilter);
  FUZZ_CHECK(filter.ok());
  std::unique_ptr<events::Subscription> all = exchange.Subscribe(nullptr);
  std::unique_ptr<events::Subscription> some = exchange.Subscribe(*filter);

  const std::vector<Expected> expected = ExpectedAnswers(input);
  size_t forwarded = 0;
  {
    ttrpc::Server server(loop);
    RegisterForward(server, exchange);
    Peer peer(loop, ServeAndDial(server));
    peer.Write(input);
    FUZZ_CHECK(peer.RunUntil([&] { return peer.written() && peer.frames().size() >= expected.size(); }, kMaxRounds));
    peer.CloseWrite();
    FUZZ_CHECK(peer.RunUntil([&] { return peer.eof(); }, kMaxRounds));
    FUZZ_CHECK(peer.partial() == 0);
    FUZZ_CHECK(peer.frames().size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) CheckAnswer(peer.frames()[i], expected[i], &forwarded);
    FUZZ_CHECK(server.connection_count() == 0);
  }
  FUZZ_CHECK(exchange.published() == forwarded);
  FUZZ_CHECK(Drain(*all) == forwarded);
  FUZZ_CHECK(Drain(*some) <= forwarded);
}

}  // namespace
}  // namespace berth::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::err);
  google::protobuf::SetLogHandler(nullptr);
  // The event types a shim sends, linked in so that ProtoAdaptor can unpack them from an Any.
  (void)containerd::events::TaskExit::descriptor();
  (void)containerd::events::ContainerCreate::descriptor();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  berth::fuzz::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
