#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "berth/transfer_display.h"
#include "client/transfer.h"

namespace berth::cli {
namespace {

using client::TransferProgress;
using client::TransferState;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(TransferDisplay, ProgressBar) {
  EXPECT_EQ(ProgressBar(0.0, 4), "|>---|");
  EXPECT_EQ(ProgressBar(0.5, 4), "|++>-|");
  EXPECT_EQ(ProgressBar(1.0, 4), "|++++|");
  EXPECT_EQ(ProgressBar(7.0, 2), "|++|");   // clamped
  EXPECT_EQ(ProgressBar(-1.0, 2), "|>-|");
}

TEST(TransferDisplay, FormatElapsed) {
  EXPECT_EQ(FormatElapsed(std::chrono::milliseconds(1234)), "1.2 s");
  EXPECT_EQ(FormatElapsed(std::chrono::seconds(125)), "2m05s");
  EXPECT_EQ(FormatElapsed(std::chrono::seconds(3725)), "1h02m05s");
}

TEST(TransferDisplay, PlainLinesOnStateChangesOnly) {
  std::ostringstream out;
  TransferDisplay d(out, /*terminal=*/false, /*push=*/false);
  TransferProgress p{"layer-sha256:aa", "application/vnd.oci.image.layer.v1.tar+gzip", "sha256:aa", 2 << 20, 0, 0,
                     TransferState::kWaiting};
  d.Update(p);
  EXPECT_EQ(out.str(), "");
  p.state = TransferState::kRunning;
  p.offset = p.resumed_from = 1 << 20;
  d.Update(p);
  p.offset = 1536 << 10;
  d.Update(p);  // same state: no line
  p.offset = 2 << 20;
  p.state = TransferState::kDone;
  d.Update(p);
  d.Finish();
  EXPECT_EQ(out.str(),
            "layer-sha256:aa: downloading 2.0 MiB (resuming at 1.0 MiB)\n"
            "layer-sha256:aa: done 2.0 MiB\n");
  EXPECT_EQ(d.transferred(), 1 << 20);
}

TEST(TransferDisplay, TerminalRowsAreRedrawnInPlace) {
  std::ostringstream out;
  TransferDisplay d(out, /*terminal=*/true, /*push=*/true, 100);
  auto t0 = TransferDisplay::Clock::now();
  TransferProgress a{"layer-sha256:aa", "", "sha256:aa", 1000, 0, 0, TransferState::kRunning};
  TransferProgress b{"config-sha256:bb", "", "sha256:bb", 10, 10, 0, TransferState::kExists};
  d.Update(a, t0);
  d.Update(b, t0);
  std::string first = out.str();
  EXPECT_THAT(first, HasSubstr("uploading"));
  EXPECT_THAT(first, HasSubstr("exists"));
  EXPECT_THAT(first, HasSubstr("\033[2A"));  // the second draw goes back over row + total
  out.str("");
  a.offset = 500;
  d.Update(a, t0 + std::chrono::milliseconds(10));  // too soon: no redraw
  EXPECT_EQ(out.str(), "");
  d.Update(a, t0 + std::chrono::milliseconds(200));
  EXPECT_THAT(out.str(), HasSubstr("\033[3A"));
  EXPECT_THAT(out.str(), HasSubstr("500.0 B/1000.0 B"));
  EXPECT_THAT(out.str(), HasSubstr("elapsed:"));
  EXPECT_EQ(d.transferred(), 500);  // "exists" moved nothing
}

TEST(TransferDisplayIngestRef, AsContainerdMakeRefKey) {
  EXPECT_EQ(client::IngestRef("application/vnd.oci.image.manifest.v1+json", "sha256:1"), "manifest-sha256:1");
  EXPECT_EQ(client::IngestRef("application/vnd.docker.distribution.manifest.list.v2+json", "sha256:1"),
            "index-sha256:1");
  EXPECT_EQ(client::IngestRef("application/vnd.docker.image.rootfs.diff.tar.gzip", "sha256:1"), "layer-sha256:1");
  EXPECT_EQ(client::IngestRef("application/vnd.oci.image.layer.v1.tar+zstd", "sha256:1"), "layer-sha256:1");
  EXPECT_EQ(client::IngestRef("application/vnd.oci.image.config.v1+json", "sha256:1"), "config-sha256:1");
  EXPECT_EQ(client::IngestRef("text/plain", "sha256:1"), "unknown-sha256:1");
}

}  // namespace
}  // namespace berth::cli
