#include "rest/json_codec.h"

#include <gtest/gtest.h>

namespace berth::rest {
namespace {

using nlohmann::json;

TEST(JsonCodecTest, StartContainerTakesTheSeedsFields) {
  auto c = DecodeStartContainer(
      R"({"bundlePath": "/containers/redis", "checkpoint": "cp1", "stdout": "/tmp/o", "stderr": "/tmp/e",
          "labels": ["a=b", "c"], "unknownField": 1})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bundle_path, "/containers/redis");
  EXPECT_EQ(c->checkpoint, "cp1");
  EXPECT_EQ(c->stdout_path, "/tmp/o");
  EXPECT_EQ(c->labels, (std::vector<std::string>{"a=b", "c"}));
}

TEST(JsonCodecTest, BadBodiesAreInvalidArgumentNamingTheProblem) {
  struct Case {
    const char* body;
    const char* says;
  } cases[] = {
      {"", "invalid JSON"},
      {"{\"bundlePath\": \"/x\"", "invalid JSON"},
      {"[]", "must be an object"},
      {"{}", "empty bundle path"},
      {"{\"bundlePath\": 5}", "\"bundlePath\" must be a string"},
      {"{\"bundlePath\": \"/x\", \"labels\": \"a=b\"}", "\"labels\" must be an array of strings"},
      {"{\"bundlePath\": \"/x\", \"labels\": [1]}", "\"labels\" must be an array of strings"},
  };
  for (const auto& c : cases) {
    auto r = DecodeStartContainer(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_TRUE(r.status().Is(Errc::kInvalidArgument)) << c.body;
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << c.body << " -> " << r.status().message();
  }
}

TEST(JsonCodecTest, DeepNestingIsRefusedBeforeParsing) {
  std::string deep(100000, '[');
  auto r = ParseObject("{\"a\":" + deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested deeper"), std::string::npos);
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseObject("{\"a\": \"" + std::string(100, '[') + "\"}").ok());
}

TEST(JsonCodecTest, SignalsAndUpdates) {
  EXPECT_EQ(DecodeSignal(R"({"signal": 15})").value(), 15);
  EXPECT_FALSE(DecodeSignal(R"({"signal": 0})").ok());
  EXPECT_FALSE(DecodeSignal(R"({"signal": 99})").ok());
  EXPECT_FALSE(DecodeSignal(R"({"signal": "TERM"})").ok());
  EXPECT_FALSE(DecodeSignal(R"({})").ok());
  auto u = DecodeUpdateContainer(R"({"status": "paused"})");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->status, "paused");
  EXPECT_EQ(DecodeUpdateContainer(R"({"signal": 9})").value().signal, 9);
  EXPECT_FALSE(DecodeUpdateContainer(R"({"status": "frozen"})").ok());
  EXPECT_FALSE(DecodeUpdateContainer(R"({})").ok());
}

TEST(JsonCodecTest, ProcessRoundTripAndTheSeedsOmitempty) {
  auto p = DecodeProcess(R"({"user": {"uid": 1000, "gid": 1000, "additionalGids": [5]}, "args": ["sh", "-c", "sleep 10"],
                             "env": ["PATH=/bin"], "cwd": "/", "terminal": false})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->uid, 1000u);
  EXPECT_EQ(p->additional_gids, std::vector<uint32_t>{5});
  p->pid = 42;
  json out = Encode(*p);
  EXPECT_EQ(out["pid"], 42);
  EXPECT_EQ(out["user"]["uid"], 1000);
  EXPECT_EQ(out["args"][2], "sleep 10");
  // terminal and user always; the rest only when set.
  json bare = Encode(Process{});
  EXPECT_TRUE(bare.contains("terminal"));
  EXPECT_TRUE(bare.contains("user"));
  EXPECT_FALSE(bare.contains("args"));
  EXPECT_FALSE(bare.contains("pid"));
  EXPECT_FALSE(DecodeProcess(R"({"args": []})").ok());
  EXPECT_FALSE(DecodeProcess(R"({"args": ["x"], "user": {"uid": -1}})").ok());
  EXPECT_FALSE(DecodeProcess(R"({"args": ["x"], "user": {"uid": 4294967296}})").ok());
}

TEST(JsonCodecTest, StateHasTheSeedsShape) {
  ContainerView c;
  c.id = "redis";
  c.bundle_path = "/containers/redis";
  c.status = "running";
  Process p;
  p.args = {"redis-server"};
  p.pid = 11497;
  c.processes.push_back(p);
  json state = EncodeState({c}, Machine{4, 7872909312});
  EXPECT_EQ(state["machine"]["cpus"], 4);
  EXPECT_EQ(state["machine"]["memory"], 7872909312);
  ASSERT_EQ(state["containers"].size(), 1u);
  EXPECT_EQ(state["containers"][0]["id"], "redis");
  EXPECT_EQ(state["containers"][0]["bundlePath"], "/containers/redis");
  EXPECT_EQ(state["containers"][0]["state"]["status"], "running");
  EXPECT_EQ(state["containers"][0]["processes"][0]["pid"], 11497);
  EXPECT_EQ(EncodeState({}, Machine{1, 2})["containers"], json::array());
}

TEST(JsonCodecTest, CheckpointOptionsDefaultOnAnEmptyBody) {
  auto o = DecodeCheckpointOptions("");
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->exit);
  auto set = DecodeCheckpointOptions(R"({"exit": true, "tcp": true, "unixSockets": false, "shell": true})");
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->exit && set->tcp && set->shell && !set->unix_sockets);
  EXPECT_FALSE(DecodeCheckpointOptions(R"({"exit": "yes"})").ok());
}

TEST(JsonCodecTest, CheckpointsInTheSeedsShape) {
  Checkpoint plain{"cp1", "2026-01-02T03:04:05.000000006Z", {}};
  json p = Encode(plain);
  EXPECT_EQ(p, json({{"name", "cp1"},
                     {"timestamp", "2026-01-02T03:04:05.000000006Z"},
                     {"tcp", false},
                     {"unixSockets", false},
                     {"shell", false}}));
  EXPECT_FALSE(p.contains("exit"));  // omitempty in the seed
  Checkpoint all{"cp2", "2026-01-02T03:04:06Z", {.exit = true, .tcp = true, .unix_sockets = true, .shell = true}};
  json a = Encode(all);
  EXPECT_EQ(a["exit"], true);
  EXPECT_EQ(a["tcp"], true);
  EXPECT_EQ(a["unixSockets"], true);
  EXPECT_EQ(a["shell"], true);
  json list = EncodeCheckpoints({plain, all});
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "cp1");
  EXPECT_EQ(list[1]["name"], "cp2");
  EXPECT_EQ(EncodeCheckpoints({}), json::array());
  EXPECT_EQ(EncodeCheckpoints({}).dump(), "[]");
}

TEST(JsonCodecTest, ErrorBodyIsJsonEvenForBadUtf8) {
  json e = json::parse(ErrorBody("bad \xff byte"));
  EXPECT_TRUE(e["error"].is_string());
}

}  // namespace
}  // namespace berth::rest
