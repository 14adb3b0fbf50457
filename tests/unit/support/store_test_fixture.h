// A metadata DB on a fresh temp file, migrated, removed after the test: the fixture of the
// store tests (images, containers, leases).
#pragma once

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "metadata/db.h"
#include "metadata/schema.h"

namespace berth::metadata {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("berth-store-test-" + std::to_string(::getpid()) + "-" + info->test_suite_name() +
             "-" + info->name() + ".db");
    std::filesystem::remove(path_);
    auto db = Db::Open(path_, Migrations());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix);
  }

  Status Update(const std::function<Status(Tx&)>& fn) { return db_->Update(fn); }
  Status View(const std::function<Status(Tx&)>& fn) { return db_->View(fn); }

  // Runs `fn` in a write (InUpdate) or read (InView) transaction and returns its value.
  template <typename T>
  Result<T> InUpdate(const std::function<Result<T>(Tx&)>& fn) {
    return InTx<T>(&metadata::Db::Update, fn);
  }
  template <typename T>
  Result<T> InView(const std::function<Result<T>(Tx&)>& fn) {
    return InTx<T>(&metadata::Db::View, fn);
  }
  template <typename T, typename Method>
  Result<T> InTx(Method method, const std::function<Result<T>(Tx&)>& fn) {
    std::optional<T> out;
    Status st = ((*db_).*method)([&](Tx& tx) -> Status {
      auto r = fn(tx);
      if (!r.ok()) return r.status();
      out = std::move(r).value();
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return std::move(*out);
  }

  std::filesystem::path path_;
  std::unique_ptr<Db> db_;
};

}  // namespace berth::metadata
