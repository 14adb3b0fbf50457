// containerd 0.0.x's view of an event (its REST /events stream and `ctr events` table): a type
// ("exit", "oom", "start-container", "start-process", "pause", "resume", "delete",
// "checkpoint"), the container id, the pid and the exit status, read from containerd 1.x's task
// events. Events of other topics have no seed form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "events/exchange.h"

namespace berth::events {

struct SeedEvent {
  std::string type;
  std::string id;
  uint32_t pid = 0;     // 0: none
  uint32_t status = 0;  // exit status ("exit", "delete")
  bool has_status = false;
};

std::optional<SeedEvent> ToSeedEvent(const Envelope& env);

}  // namespace berth::events
