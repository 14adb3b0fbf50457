// Daemon-wide facts kept in the metadata DB across restarts.
#pragma once

#include <string>

#include "common/status.h"
#include "metadata/db.h"

namespace berth::metadata {

// The server's UUID (Introspection.Server): made once, on first start, then kept.
Result<std::string> ServerUuid(Db& db);

}  // namespace berth::metadata
