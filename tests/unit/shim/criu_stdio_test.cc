// The task's stdio across a checkpoint (shim/criu_stdio): the per-container criu config file
// wired into the spec, the keys of the stdio files criu is to treat as external, their round trip
// through the checkpoint image (and what is refused there: the keys become criu options), and
// the config lines written for a dump and a restore.
#include "shim/criu_stdio.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace berth::shim {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "berth-criu-stdio-test-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr) << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& p, const std::string& data) { std::ofstream(p, std::ios::binary) << data; }

// An annotation of a parsed spec ("" when there is none).
std::string Annotation(const json& spec, const std::string& key) {
  if (!spec.is_object() || !spec.contains("annotations") || !spec["annotations"].is_object()) return "";
  const json& ann = spec["annotations"];
  return ann.contains(key) && ann[key].is_string() ? ann[key].get<std::string>() : "";
}

std::string Hex(uint64_t v) {
  std::ostringstream s;
  s << std::hex << v;
  return s.str();
}

// ---- PrepareCriuConfig ----

TEST(CriuStdioPrepareConfigTest, PointsTheSpecAtAnEmptyCriuConf) {
  TempDir bundle;
  const json spec = {{"ociVersion", "1.0.2"},
                     {"process", {{"args", {"sleep", "100"}}, {"terminal", false}}},
                     {"annotations", {{"io.example/keep", "yes"}}}};
  WriteFile(bundle.path() / "config.json", spec.dump());

  auto prepared = PrepareCriuConfig(bundle.str());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_TRUE(*prepared);

  const fs::path conf = bundle.path() / kCriuConfigFile;
  ASSERT_TRUE(fs::exists(conf)) << conf;
  EXPECT_EQ(fs::file_size(conf), 0u);
  const json after = json::parse(ReadFile(bundle.path() / "config.json"), nullptr, false);
  ASSERT_TRUE(after.is_object()) << ReadFile(bundle.path() / "config.json");
  EXPECT_EQ(Annotation(after, kCriuConfigAnnotation), conf.string()) << after.dump(2);
  // Everything else of the spec is kept.
  EXPECT_EQ(Annotation(after, "io.example/keep"), "yes") << after.dump(2);
  EXPECT_EQ(after.value("process", json()), spec["process"]) << after.dump(2);
  EXPECT_EQ(after.value("ociVersion", ""), "1.0.2") << after.dump(2);
  EXPECT_FALSE(fs::exists(bundle.path() / "config.json.tmp")) << "the temporary file is renamed over";
  EXPECT_FALSE(fs::exists(bundle.path() / "criu.conf.tmp"));
}

TEST(CriuStdioPrepareConfigTest, SpecWithoutAnnotationsGetsThem) {
  TempDir bundle;
  WriteFile(bundle.path() / "config.json", R"({"ociVersion":"1.0.2"})");
  auto prepared = PrepareCriuConfig(bundle.str());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_TRUE(*prepared);
  const json after = json::parse(ReadFile(bundle.path() / "config.json"), nullptr, false);
  ASSERT_TRUE(after.is_object());
  EXPECT_EQ(Annotation(after, kCriuConfigAnnotation), (bundle.path() / kCriuConfigFile).string()) << after.dump(2);
}

TEST(CriuStdioPrepareConfigTest, SpecWithItsOwnCriuConfigIsLeftAlone) {
  TempDir bundle;
  const std::string text = R"({"ociVersion":"1.0.2","annotations":{"org.criu.config":"/etc/my-criu.conf"}})";
  WriteFile(bundle.path() / "config.json", text);

  auto prepared = PrepareCriuConfig(bundle.str());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_FALSE(*prepared) << "the user's criu config rules";
  EXPECT_EQ(ReadFile(bundle.path() / "config.json"), text) << "config.json untouched";
  EXPECT_FALSE(fs::exists(bundle.path() / kCriuConfigFile)) << "no criu.conf of ours";
}

TEST(CriuStdioPrepareConfigTest, NonObjectConfigIsAnError) {
  for (const std::string text : {"[1, 2, 3]", "\"a string\"", "not json at all", ""}) {
    TempDir bundle;
    WriteFile(bundle.path() / "config.json", text);
    auto prepared = PrepareCriuConfig(bundle.str());
    ASSERT_FALSE(prepared.ok()) << "config.json: " << text;
    EXPECT_EQ(prepared.status().code(), Errc::kInvalidArgument) << prepared.status().ToString();
    EXPECT_EQ(ReadFile(bundle.path() / "config.json"), text) << "left as it was";
    EXPECT_FALSE(fs::exists(bundle.path() / kCriuConfigFile));
  }
}

TEST(CriuStdioPrepareConfigTest, MissingConfigIsAnError) {
  TempDir bundle;
  auto prepared = PrepareCriuConfig(bundle.str());
  ASSERT_FALSE(prepared.ok());
  EXPECT_FALSE(fs::exists(bundle.path() / kCriuConfigFile));
}

// ---- the keys in the checkpoint image ----

TEST(CriuStdioKeysTest, SaveAndLoadRoundTrip) {
  TempDir image;
  StdioKeys keys;
  keys[0] = StdioKey{"file[1a:2b3c]", true, S_IFIFO | 0600};
  keys[1] = StdioKey{"file[1a:ff]", true, S_IFIFO | 0640};
  keys[2] = StdioKey{"file[2:10]", false, S_IFREG | 0644};
  Status saved = SaveStdioKeys(image.str(), keys);
  ASSERT_TRUE(saved.ok()) << saved.ToString();
  EXPECT_TRUE(fs::exists(image.path() / kStdioKeysFile));
  EXPECT_FALSE(fs::exists(image.path() / (std::string(kStdioKeysFile) + ".tmp")));

  auto loaded = LoadStdioKeys(image.str());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 3u);
  for (int fd = 0; fd < 3; ++fd) {
    ASSERT_TRUE(loaded->contains(fd)) << fd;
    EXPECT_EQ(loaded->at(fd).key, keys[fd].key) << fd;
    EXPECT_EQ(loaded->at(fd).fifo, keys[fd].fifo) << fd;
    EXPECT_EQ(loaded->at(fd).mode, keys[fd].mode) << fd;
  }
}

TEST(CriuStdioKeysTest, OnlySomeFdsRoundTrip) {
  TempDir image;
  StdioKeys keys;
  keys[2] = StdioKey{"file[3:4]", true, S_IFIFO | 0600};
  ASSERT_TRUE(SaveStdioKeys(image.str(), keys).ok());
  auto loaded = LoadStdioKeys(image.str());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->begin()->first, 2);
  EXPECT_EQ(loaded->begin()->second.key, "file[3:4]");
}

TEST(CriuStdioKeysTest, MissingFileIsNotFound) {
  TempDir image;
  auto loaded = LoadStdioKeys(image.str());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Errc::kNotFound) << loaded.status().ToString();
}

// berth-stdio.json comes from the checkpoint image (a registry's, perhaps): each key becomes a
// criu option line, so only what ExternalStdio writes may pass.
TEST(CriuStdioKeysTest, KeysThatAreNotFileKeysAreRefused) {
  const std::string bad_keys[] = {
      "file[1:2]\nexternal x",    // a second criu option
      "file[1:2] --action-script", // an argument
      "file[1:2]\n",
      "fd[1]:file[1:2]",
      "tty[1:2]",
      "file[1:2",
      "ile[1:2]",
      "file[1:2]x",
      "file[A:2]",  // criu's keys are lower-case hex
      "file[1:g]",
      "",
  };
  for (const auto& key : bad_keys) {
    TempDir image;
    WriteFile(image.path() / kStdioKeysFile, json{{"1", {{"key", key}, {"fifo", true}, {"mode", 4480}}}}.dump());
    auto loaded = LoadStdioKeys(image.str());
    ASSERT_FALSE(loaded.ok()) << "key accepted: " << json(key).dump();
    EXPECT_EQ(loaded.status().code(), Errc::kInvalidArgument) << loaded.status().ToString();
  }
}

TEST(CriuStdioKeysTest, FdsOtherThanTheStdioOnesAreRefused) {
  for (const std::string fd : {"3", "-1", "01", "00", "1 ", "x", "10"}) {
    TempDir image;
    WriteFile(image.path() / kStdioKeysFile, json{{fd, {{"key", "file[1:2]"}, {"fifo", true}, {"mode", 4480}}}}.dump());
    auto loaded = LoadStdioKeys(image.str());
    ASSERT_FALSE(loaded.ok()) << "fd accepted: " << json(fd).dump();
    EXPECT_EQ(loaded.status().code(), Errc::kInvalidArgument) << loaded.status().ToString();
  }
}

TEST(CriuStdioKeysTest, MalformedFilesAreRefused) {
  const std::string bad[] = {
      "not json",
      "[]",
      R"({"1":"file[1:2]"})",
      R"({"1":{"fifo":true}})",
      R"({"1":{"key":12}})",
  };
  for (const auto& text : bad) {
    TempDir image;
    WriteFile(image.path() / kStdioKeysFile, text);
    auto loaded = LoadStdioKeys(image.str());
    ASSERT_FALSE(loaded.ok()) << "accepted: " << text;
    EXPECT_EQ(loaded.status().code(), Errc::kInvalidArgument) << loaded.status().ToString();
  }
}

// ---- criu.conf ----

TEST(CriuStdioConfigTest, DumpAndRestoreLines) {
  TempDir bundle;
  StdioKeys keys;
  keys[0] = StdioKey{"file[1a:2b]", true, S_IFIFO | 0600};
  keys[2] = StdioKey{"file[1a:3c]", false, S_IFREG | 0644};
  const fs::path conf = bundle.path() / kCriuConfigFile;

  Status dump = WriteDumpConfig(bundle.str(), keys);
  ASSERT_TRUE(dump.ok()) << dump.ToString();
  EXPECT_EQ(ReadFile(conf), "external file[1a:2b]\nexternal file[1a:3c]\n");

  Status restore = WriteRestoreConfig(bundle.str(), keys);
  ASSERT_TRUE(restore.ok()) << restore.ToString();
  EXPECT_EQ(ReadFile(conf), "inherit-fd fd[0]:file[1a:2b]\ninherit-fd fd[2]:file[1a:3c]\n");

  ClearCriuConfig(bundle.str());
  ASSERT_TRUE(fs::exists(conf));
  EXPECT_EQ(fs::file_size(conf), 0u);
  EXPECT_FALSE(fs::exists(bundle.path() / "criu.conf.tmp"));
}

TEST(CriuStdioConfigTest, NoKeysWriteAnEmptyConfig) {
  TempDir bundle;
  const fs::path conf = bundle.path() / kCriuConfigFile;
  WriteFile(conf, "stale\n");
  ASSERT_TRUE(WriteDumpConfig(bundle.str(), {}).ok());
  EXPECT_EQ(ReadFile(conf), "");
  ASSERT_TRUE(WriteRestoreConfig(bundle.str(), {}).ok());
  EXPECT_EQ(ReadFile(conf), "");
}

// ---- ExternalStdio ----

// A child whose stdin is /dev/null, stdout the fifo `out` and stderr the file `err`, sleeping
// until it is killed (by the destructor).
class StdioChild {
 public:
  StdioChild(const fs::path& out, const fs::path& err) {
    // The fifo's reader first, so that the child's O_WRONLY open does not block.
    reader_ = ::open(out.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    EXPECT_GE(reader_, 0) << "open " << out << ": " << std::strerror(errno);
    if (reader_ < 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      int in = ::open("/dev/null", O_RDONLY);
      int o = ::open(out.c_str(), O_WRONLY);
      int e = ::open(err.c_str(), O_WRONLY | O_APPEND);
      if (in < 0 || o < 0 || e < 0 || ::dup2(in, 0) < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(111);
      for (;;) ::pause();
    }
    EXPECT_GT(pid_, 0) << "fork: " << std::strerror(errno);
  }
  ~StdioChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (reader_ >= 0) ::close(reader_);
  }
  StdioChild(const StdioChild&) = delete;
  StdioChild& operator=(const StdioChild&) = delete;

  pid_t pid() const { return pid_; }

  // Waits until the child's fd `fd` is the file `p` (its redirections are done).
  bool WaitFor(int fd, const fs::path& p) const {
    struct stat want{};
    if (::stat(p.c_str(), &want) != 0) return false;
    const std::string link = "/proc/" + std::to_string(pid_) + "/fd/" + std::to_string(fd);
    for (int i = 0; i < 500; ++i) {
      struct stat st{};
      if (::stat(link.c_str(), &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  int reader_ = -1;
};

// mnt_id of the child's fd (/proc/<pid>/fdinfo/<fd>), -1 if unreadable.
int MountId(pid_t pid, int fd) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(fd));
  for (std::string key; in >> key;) {
    if (key == "mnt_id:") {
      int v = -1;
      in >> v;
      return v;
    }
  }
  return -1;
}

TEST(CriuStdioExternalTest, KeysOfTheShimsStdioFiles) {
  TempDir tmp;
  const fs::path out = tmp.path() / "stdout", err = tmp.path() / "stderr";
  ASSERT_EQ(::mkfifo(out.c_str(), 0600), 0) << std::strerror(errno);
  ASSERT_EQ(::chmod(out.c_str(), 0620), 0) << std::strerror(errno);  // past the umask
  WriteFile(err, "");
  StdioChild child(out, err);
  ASSERT_GT(child.pid(), 0);
  ASSERT_TRUE(child.WaitFor(1, out)) << "the child's stdout never became the fifo";
  ASSERT_TRUE(child.WaitFor(2, err)) << "the child's stderr never became the file";

  struct stat fifo_st{}, file_st{};
  ASSERT_EQ(::stat(out.c_str(), &fifo_st), 0);
  ASSERT_EQ(::stat(err.c_str(), &file_st), 0);
  const int out_mnt = MountId(child.pid(), 1), err_mnt = MountId(child.pid(), 2);
  ASSERT_GE(out_mnt, 0) << "no mnt_id in /proc/<pid>/fdinfo/1";
  ASSERT_GE(err_mnt, 0);

  // stdin is /dev/null (a character device: never external), stderr given as a file:// URI.
  StdioPaths paths{"/dev/null", out.string(), "file://" + err.string(), false};
  const StdioKeys keys = ExternalStdio(child.pid(), paths);
  EXPECT_FALSE(keys.contains(0)) << keys.at(0).key;
  ASSERT_TRUE(keys.contains(1)) << "the fifo on stdout";
  EXPECT_EQ(keys.at(1).key, "file[" + Hex(static_cast<uint64_t>(out_mnt)) + ":" + Hex(fifo_st.st_ino) + "]");
  EXPECT_TRUE(keys.at(1).fifo);
  EXPECT_EQ(keys.at(1).mode, static_cast<uint32_t>(fifo_st.st_mode));
  EXPECT_TRUE(S_ISFIFO(keys.at(1).mode));
  EXPECT_EQ(keys.at(1).mode & 07777, 0620u);
  ASSERT_TRUE(keys.contains(2)) << "the plain file on stderr";
  EXPECT_EQ(keys.at(2).key, "file[" + Hex(static_cast<uint64_t>(err_mnt)) + ":" + Hex(file_st.st_ino) + "]");
  EXPECT_FALSE(keys.at(2).fifo);
  EXPECT_TRUE(S_ISREG(keys.at(2).mode));

  // What ExternalStdio writes, LoadStdioKeys takes back.
  TempDir image;
  ASSERT_TRUE(SaveStdioKeys(image.str(), keys).ok());
  auto loaded = LoadStdioKeys(image.str());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->size(), keys.size());
  EXPECT_EQ(loaded->at(1).key, keys.at(1).key);
}

TEST(CriuStdioExternalTest, FilesThatAreNotTheShimsAreNotExternal) {
  TempDir tmp;
  const fs::path out = tmp.path() / "stdout", err = tmp.path() / "stderr", other = tmp.path() / "other";
  ASSERT_EQ(::mkfifo(out.c_str(), 0600), 0) << std::strerror(errno);
  ASSERT_EQ(::mkfifo(other.c_str(), 0600), 0) << std::strerror(errno);
  WriteFile(err, "");
  StdioChild child(out, err);
  ASSERT_GT(child.pid(), 0);
  ASSERT_TRUE(child.WaitFor(1, out));
  ASSERT_TRUE(child.WaitFor(2, err));

  // The shim's stdio is elsewhere (another fifo; nothing for stderr): no keys.
  EXPECT_TRUE(ExternalStdio(child.pid(), StdioPaths{"", other.string(), "", false}).empty());
  // A process that is gone: no keys either.
  EXPECT_TRUE(ExternalStdio(0x7ffffff0, StdioPaths{"", out.string(), err.string(), false}).empty());
}

}  // namespace
}  // namespace berth::shim
