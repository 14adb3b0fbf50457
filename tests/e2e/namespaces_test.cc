// Namespaces through real ctr and berth, against a real berthd.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include "harness.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;

class NamespacesE2E : public BerthdTest {};

TEST_F(NamespacesE2E, CtrCreateListLabelRemove) {
  auto r = daemon_->Ctr({"namespaces", "create", "n1", "a=b"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  r = daemon_->Ctr({"namespaces", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("NAME"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("n1 +a=b"));

  r = daemon_->Ctr({"namespaces", "label", "n1", "c=d"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Ctr({"namespaces", "ls"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("n1 +a=b,c=d"));

  // An empty value removes the label, as in containerd.
  r = daemon_->Ctr({"namespaces", "label", "n1", "a="});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Ctr({"namespaces", "ls", "-q"});
  EXPECT_EQ(r.out, "n1\n");
  r = daemon_->Ctr({"namespaces", "ls"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("n1 +c=d"));

  r = daemon_->Ctr({"namespaces", "rm", "n1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "n1\n");
  r = daemon_->Ctr({"namespaces", "ls", "-q"});
  EXPECT_EQ(r.out, "");
}

TEST_F(NamespacesE2E, CtrCreateTwiceIsAlreadyExists) {
  ASSERT_EQ(daemon_->Ctr({"namespaces", "create", "dup"}).exit_code, 0);
  auto r = daemon_->Ctr({"namespaces", "create", "dup"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("namespace \"dup\": already exists"));
}

TEST_F(NamespacesE2E, CtrRejectsInvalidNames) {
  for (const char* bad : {"Bad/Name", "x-", "a..b"}) {
    auto r = daemon_->Ctr({"namespaces", "create", bad});
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_THAT(r.err, HasSubstr("invalid argument")) << bad;
  }
}

TEST_F(NamespacesE2E, RemoveMissingIsNotFound) {
  // ctr swallows NotFound on rm (as it does with containerd) and prints the name.
  auto r = daemon_->Ctr({"namespaces", "rm", "ghost"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "ghost\n");
  // berth says what happened.
  r = daemon_->Berth({"namespaces", "rm", "ghost"});
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("namespace \"ghost\": not found"));
}

TEST_F(NamespacesE2E, BerthNamespacesCommands) {
  auto r = daemon_->Berth({"namespaces", "create", "team-a", "owner=ops", "tier=1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Berth({"namespaces", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("NAME"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("team-a +owner=ops,tier=1"));

  r = daemon_->Berth({"namespaces", "label", "team-a", "tier=2", "owner="});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Berth({"namespaces", "ls", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"team-a\""));
  EXPECT_THAT(r.out, HasSubstr("\"tier\""));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("owner")));

  // ctr sees what berth made.
  r = daemon_->Ctr({"namespaces", "ls"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("team-a +tier=2"));

  r = daemon_->Berth({"namespaces", "rm", "team-a"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Berth({"namespaces", "ls", "-q"});
  EXPECT_EQ(r.out, "");
}

TEST_F(NamespacesE2E, BerthRejectsBadNameWithClearError) {
  auto r = daemon_->Berth({"namespaces", "create", "no/slashes"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("invalid argument"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one-line error expected:\n" << r.err;
}

}  // namespace
}  // namespace berth::e2e
