// The metadata schema: the ordered list of migrations that build it.
#pragma once

#include <vector>

#include "metadata/db.h"

namespace berth::metadata {

// Append-only: a released migration is never edited, a change is a new migration.
const std::vector<Migration>& Migrations();

}  // namespace berth::metadata
