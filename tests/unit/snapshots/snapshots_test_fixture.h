// A snapshotter test: a migrated metadata DB and a snapshotter root on a fresh temp dir,
// both removed after the test (after checking that nothing is left mounted under it).
#pragma once

#include <stdlib.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "metadata/db.h"
#include "metadata/schema.h"
#include "mount/mount.h"

namespace berth::snapshots {

class SnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "berth-snap-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto db = metadata::Db::Open(dir_ / "metadata.db", metadata::Migrations());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  void TearDown() override {
    auto left = mount::MountsUnder(dir_);
    ASSERT_TRUE(left.ok());
    EXPECT_TRUE(left->empty()) << "left mounted: " << left->front().string();
    for (const auto& m : *left) (void)mount::UnmountAll(m);
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static void WriteFile(const std::filesystem::path& p, const std::string& data) {
    std::ofstream(p) << data;
  }
  static std::string ReadFile(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::filesystem::path dir_;
  std::unique_ptr<metadata::Db> db_;
};

}  // namespace berth::snapshots
