// berth events: stream the daemon's events (`ctr events`), and publish one.
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "berth/output.h"
#include "berth/signals.h"
#include "client/typeurl.h"
#include "common/timeutil.h"
#include "events/seed_event.h"

namespace berth::cli {
namespace {

inline constexpr const char* kFormatText = "text";
inline constexpr const char* kDefaultEventType = "google.protobuf.Empty";

struct EventsArgs {
  std::vector<std::string> filters;
  std::string format = kFormatText;
  // publish
  std::string topic;
  std::string type = kDefaultEventType;
  std::string data;
};

// `TIMESTAMP NAMESPACE TOPIC PAYLOAD`, the fields joined by spaces as ctr's fmt.Println does.
std::string TextLine(const client::Envelope& envelope) {
  return FormatGoTime(envelope.timestamp()) + " " + envelope.namespace_() + " " + envelope.topic() +
         " " + client::DescribeAny(envelope.event());
}

// {"timestamp","namespace","topic","type","event"}; an undecodable payload has a null event
// and its "size" in bytes.
std::string JsonLine(const client::Envelope& envelope) {
  nlohmann::ordered_json out = {{"timestamp", FormatRfc3339(FromProto(envelope.timestamp()))},
                                {"namespace", envelope.namespace_()},
                                {"topic", envelope.topic()},
                                {"type", envelope.event().type_url()}};
  auto payload = client::AnyToJson(envelope.event());
  nlohmann::ordered_json event;
  if (payload.ok())
    event = nlohmann::ordered_json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (payload.ok() && !event.is_discarded()) {
    out["event"] = std::move(event);
  } else {
    out["event"] = nullptr;
    out["size"] = envelope.event().value().size();
  }
  return out.dump();
}

// The seed's `ctr events` table (containerd 0.0.x): TYPE ID PID STATUS, task events only.
constexpr const char* kSeedRow = "{:<16} {:<40} {:<8} {}";

std::optional<std::string> TableLine(const client::Envelope& envelope) {
  auto seed = events::ToSeedEvent(envelope);
  if (!seed) return std::nullopt;
  return fmt::format(kSeedRow, seed->type, seed->id, seed->pid == 0 ? "" : std::to_string(seed->pid),
                     seed->has_status ? std::to_string(seed->status) : "");
}

int RunSubscribe(const GlobalOptions& global, const EventsArgs& args) {
  // The client is created after the watcher (whose signal mask gRPC's threads must inherit),
  // so a signal may come before there is a client to cancel.
  std::mutex mu;
  client::Client* active = nullptr;
  bool signaled = false;
  SignalWatcher watcher([&](int) {
    std::lock_guard lock(mu);
    signaled = true;
    if (active != nullptr) active->Cancel();
  });

  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  {
    std::lock_guard lock(mu);
    active = client.get();
    if (signaled) client->Cancel();
  }
  const std::string format = args.format;
  if (format == kFormatTable) std::cout << fmt::format(kSeedRow, "TYPE", "ID", "PID", "STATUS") << std::endl;
  Status status = client->Subscribe(args.filters, [format](const client::Envelope& envelope) {
    if (format == kFormatTable) {
      auto line = TableLine(envelope);
      if (!line) return true;
      std::cout << *line << std::endl;
    } else {
      std::cout << (format == kFormatJson ? JsonLine(envelope) : TextLine(envelope)) << std::endl;
    }
    return static_cast<bool>(std::cout);  // stop when nobody reads any more
  });
  {
    std::lock_guard lock(mu);
    active = nullptr;
  }
  if (!status.ok()) return Fail(status);
  return 0;
}

int RunPublish(const GlobalOptions& global, const EventsArgs& args) {
  auto event = client::AnyFromJson(args.type, args.data.empty() ? "{}" : args.data);
  if (!event.ok()) return Fail(event.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  if (Status status = client->Publish(args.topic, *event); !status.ok()) return Fail(status);
  return 0;
}

}  // namespace

void AddEventsCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<EventsArgs>();
  auto* events = app.add_subcommand("events", "Display berthd's events, one line per event");
  events->alias("event");
  events->add_option(
      "filters", args->filters,
      R"(Filters, as containerd's: topic=="/namespaces/create", namespace==default, ...)");
  events
      ->add_option("--format", args->format,
                   "text: TIMESTAMP NAMESPACE TOPIC EVENT (as ctr); json: one object per line; "
                   "table: TYPE ID PID STATUS of task events (containerd 0.0.x's ctr events)")
      ->check(CLI::IsMember({kFormatText, kFormatJson, kFormatTable}))
      ->capture_default_str();
  // The publish callback runs before this one: keep its action.
  events->callback([&cli, args] {
    if (!cli.action) cli.action = [&cli, args] { return RunSubscribe(cli.global, *args); };
  });

  auto* publish = events->add_subcommand(
      "publish",
      "Publish an event in the current namespace. The payload is a message of --type, from\n"
      "--data in protobuf JSON, or empty without --data. Types are the protobuf messages\n"
      "berth knows: containerd's events (containerd.events.*) and the well-known types.\n"
      "ctr decodes only types it knows too: containerd's events and google.protobuf.Empty.");
  publish->add_option("--topic", args->topic, "Topic, e.g. /test/hello")->required();
  auto* type = publish->add_option("--type", args->type, "Full protobuf name of the payload")
                   ->capture_default_str();
  publish->add_option("--data", args->data, "Payload in protobuf JSON (needs --type)")->needs(type);
  publish->callback(
      [&cli, args] { cli.action = [&cli, args] { return RunPublish(cli.global, *args); }; });
}

}  // namespace berth::cli
