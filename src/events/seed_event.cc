#include "events/seed_event.h"

#include "github.com/containerd/containerd/api/events/task.pb.h"

namespace berth::events {

std::optional<SeedEvent> ToSeedEvent(const Envelope& env) {
  namespace ev = containerd::events;
  const auto& any = env.event();
  auto unpack = [&](google::protobuf::Message& m) {
    std::string_view url = any.type_url();
    return url.substr(url.rfind('/') + 1) == m.GetDescriptor()->full_name() && m.ParseFromString(any.value());
  };
  const std::string& topic = env.topic();
  if (ev::TaskExit e; topic == "/tasks/exit" && unpack(e)) {
    return SeedEvent{"exit", e.container_id(), e.pid(), e.exit_status(), true};
  }
  if (ev::TaskOOM o; topic == "/tasks/oom" && unpack(o)) return SeedEvent{"oom", o.container_id()};
  if (ev::TaskStart s; topic == "/tasks/start" && unpack(s)) return SeedEvent{"start-container", s.container_id(), s.pid()};
  if (ev::TaskExecStarted x; topic == "/tasks/exec-started" && unpack(x)) {
    return SeedEvent{"start-process", x.container_id(), x.pid()};
  }
  if (ev::TaskPaused p; topic == "/tasks/paused" && unpack(p)) return SeedEvent{"pause", p.container_id()};
  if (ev::TaskResumed r; topic == "/tasks/resumed" && unpack(r)) return SeedEvent{"resume", r.container_id()};
  if (ev::TaskDelete d; topic == "/tasks/delete" && unpack(d)) {
    return SeedEvent{"delete", d.container_id(), d.pid(), d.exit_status(), true};
  }
  if (ev::TaskCheckpointed c; topic == "/tasks/checkpointed" && unpack(c)) return SeedEvent{"checkpoint", c.container_id()};
  return std::nullopt;
}

}  // namespace berth::events
