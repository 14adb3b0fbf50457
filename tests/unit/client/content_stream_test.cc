// ContentWriter::Open waits only for the daemon's ingest lock: other kUnavailable errors (a
// daemon that cannot be reached) are returned at once rather than retried forever.
#include <gtest/gtest.h>

#include "client/content_stream.h"

namespace berth::client {
namespace {

TEST(ContentStream, OnlyTheIngestLockIsWaitedFor) {
  // berthd's and containerd's message, as it reaches the client.
  EXPECT_TRUE(IsRefLocked(
      Unavailable("ref ns/layer-sha256:ab locked for 1.2s (since 2026-12-06T02:00:00Z): unavailable")));
  EXPECT_FALSE(IsRefLocked(Unavailable("failed to connect to all addresses")));
  EXPECT_FALSE(IsRefLocked(NotFound("content locked")));
  EXPECT_FALSE(IsRefLocked(Status::Ok()));
}

}  // namespace
}  // namespace berth::client
