// The content store through containerd's real ctr, against a real berthd: ingest with
// verification, ls/get/label/rm, active ingests, resume after a crash, and one copy on disk
// for a blob owned by several namespaces.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <thread>

#include "harness.h"

extern char** environ;

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

constexpr size_t kMiB = 1 << 20;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string ShellLine(const std::vector<std::string>& argv) {
  std::string line = "exec";
  for (const auto& a : argv) line += " " + Quote(a);
  return line;
}

// A process whose stdin the test writes by hand (to feed an ingest slowly).
class PipedProcess {
 public:
  PipedProcess(const std::vector<std::string>& argv, const fs::path& out_file) {
    ::signal(SIGPIPE, SIG_IGN);  // a write after the child died must fail, not kill the test
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[0]);
    in_ = fds[1];
  }
  ~PipedProcess() {
    CloseInput();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  PipedProcess(const PipedProcess&) = delete;
  PipedProcess& operator=(const PipedProcess&) = delete;

  bool started() const { return pid_ > 0 && in_ >= 0; }
  bool Write(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(in_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  void CloseInput() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }
  // Exit code (128+signal when killed), -1 on timeout.
  int Wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
};

class ContentE2E : public BerthdTest {
 protected:
  // A file of `size` pseudo-random bytes; returns its path.
  fs::path MakeBlob(const std::string& name, size_t size, unsigned seed = 1) {
    fs::path p = dir_->path() / name;
    std::mt19937 gen(seed);
    std::string data(size, '\0');
    for (auto& c : data) c = static_cast<char>(gen() & 0xff);
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }
  std::string Sha256File(const fs::path& p) {
    auto r = e2e::Run({"sha256sum", p.string()});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return "sha256:" + r.out.substr(0, 64);
  }
  std::vector<std::string> CtrNs(const std::string& ns, std::vector<std::string> args) {
    args.insert(args.begin(), {"-n", ns});
    return daemon_->CtrArgv(args);
  }
  // `ctr -n NS content ingest FLAGS... REF < FILE`
  CommandResult Ingest(const std::string& ns, const std::string& ref, const fs::path& file,
                       const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = {"content", "ingest"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(ref);
    return e2e::Run({"/bin/sh", "-c", ShellLine(CtrNs(ns, args)) + " < " + Quote(file.string())});
  }
  // sha256 of `ctr -n NS content get DIGEST`'s output.
  std::string GetSha256(const std::string& ns, const std::string& digest) {
    auto r = e2e::Run({"/bin/bash", "-c",
                       "set -o pipefail; " + ShellLine(CtrNs(ns, {"content", "get", digest})).substr(5) +
                           " | sha256sum"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return "sha256:" + r.out.substr(0, 64);
  }
  CommandResult Ctr(const std::string& ns, const std::vector<std::string>& args) {
    return e2e::Run(CtrNs(ns, args));
  }
  std::vector<fs::path> BlobFiles() {
    std::vector<fs::path> out;
    fs::path dir = daemon_->root() / "content" / "blobs";
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
    return out;
  }
  // Largest ingest data file on disk.
  uintmax_t IngestBytes() {
    uintmax_t best = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(daemon_->root() / "content" / "ingest", ec)) {
      uintmax_t size = fs::file_size(e.path() / "data", ec);
      if (!ec) best = std::max(best, size);
    }
    return best;
  }
  bool WaitIngestBytes(uintmax_t at_least, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (IngestBytes() >= at_least) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

TEST_F(ContentE2E, IngestListGetLabelRemove) {
  fs::path blob = MakeBlob("blob", 3'000'000);
  const std::string digest = Sha256File(blob);
  auto r = Ingest("default", "ingest-1", blob, {"--expected-digest", digest, "--expected-size", "3000000"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();

  r = Ctr("default", {"content", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("DIGEST\\s+SIZE\\s+AGE\\s+LABELS"));
  EXPECT_THAT(r.out, ContainsRegex(digest + "\\s+3MB\\s+.+\\s+-\n"));

  EXPECT_EQ(GetSha256("default", digest), digest) << "content get is byte-identical";

  r = Ctr("default", {"content", "label", digest, "a=b", "c=d"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("^(a=b,c=d|c=d,a=b)\n$"));  // ctr prints a Go map
  r = Ctr("default", {"content", "ls"});
  EXPECT_THAT(r.out, ContainsRegex(digest + "\\s+3MB\\s+.+\\s+(a=b,c=d|c=d,a=b)\n"));
  r = Ctr("default", {"content", "ls", "labels.a==b"});
  EXPECT_THAT(r.out, HasSubstr(digest));
  r = Ctr("default", {"content", "ls", "-q", "labels.a==zzz"});
  EXPECT_EQ(r.out, "");
  // An empty value removes the label.
  r = Ctr("default", {"content", "label", digest, "a="});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "c=d\n");

  // Ingesting it again is a no-op success (AlreadyExists is what ctr expects).
  r = Ingest("default", "ingest-2", blob, {"--expected-digest", digest});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);

  r = Ctr("default", {"content", "rm", digest});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, digest + "\n");
  r = Ctr("default", {"content", "ls", "-q"});
  EXPECT_EQ(r.out, "");
  r = Ctr("default", {"content", "get", digest});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("not found"));
}

TEST_F(ContentE2E, WrongDigestOrSizeIsRejectedAndNothingCommitted) {
  fs::path blob = MakeBlob("blob", 100'000);
  const std::string digest = Sha256File(blob);
  const std::string wrong = "sha256:" + std::string(64, '0');
  auto r = Ingest("default", "bad-digest", blob, {"--expected-digest", wrong});
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("unexpected commit digest " + digest + ", expected " + wrong));
  EXPECT_THAT(r.err, HasSubstr("failed precondition"));

  r = Ingest("default", "bad-size", blob, {"--expected-digest", digest, "--expected-size", "99999"});
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("failed size validation"));

  r = Ctr("default", {"content", "ls", "-q"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(BlobFiles().empty());
}

TEST_F(ContentE2E, ActiveShowsIngestInProgress) {
  fs::path blob = MakeBlob("blob", 2'000'000, 7);
  const std::string digest = Sha256File(blob);
  std::ifstream in(blob, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  PipedProcess ctr(CtrNs("default", {"content", "ingest", "--expected-digest", digest, "slow-ref"}),
                   dir_->path() / "ctr.out");
  ASSERT_TRUE(ctr.started());
  // ctr sends whole 1 MiB buffers (content.copyWithBuffer reads at least that much).
  ASSERT_TRUE(ctr.Write(std::string_view(data).substr(0, kMiB)));
  ASSERT_TRUE(WaitIngestBytes(kMiB, 20s)) << daemon_->Log();

  auto r = Ctr("default", {"content", "active"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("REF\\s+SIZE\\s+AGE"));
  EXPECT_THAT(r.out, ContainsRegex("slow-ref\\s+1.049MB"));
  r = Ctr("default", {"content", "active", "other"});
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("slow-ref")));
  r = Ctr("elsewhere", {"content", "active"});
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("slow-ref"))) << "ingests are per namespace";

  ASSERT_TRUE(ctr.Write(std::string_view(data).substr(kMiB)));
  ctr.CloseInput();
  ASSERT_EQ(ctr.Wait(30s), 0) << daemon_->Log();
  r = Ctr("default", {"content", "active"});
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("slow-ref")));
  EXPECT_EQ(GetSha256("default", digest), digest);
}

TEST_F(ContentE2E, IngestResumesAfterDaemonIsKilled) {
  fs::path blob = MakeBlob("blob", 6'000'000, 3);
  const std::string digest = Sha256File(blob);
  std::ifstream in(blob, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  {
    PipedProcess ctr(CtrNs("default", {"content", "ingest", "--expected-digest", digest,
                                       "--expected-size", "6000000", "resume-ref"}),
                     dir_->path() / "ctr1.out");
    ASSERT_TRUE(ctr.started());
    ASSERT_TRUE(ctr.Write(std::string_view(data).substr(0, 3 * kMiB)));
    ASSERT_TRUE(WaitIngestBytes(3 * kMiB, 20s)) << daemon_->Log();
    daemon_->Kill();  // kill -9 mid-ingest
    ctr.CloseInput();
    EXPECT_NE(ctr.Wait(30s), 0) << "the client saw its daemon die";
  }

  daemon_->Start();
  auto r = Ctr("default", {"content", "active"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("resume-ref\\s+3.146MB")) << "the partial ingest survived the crash";

  r = Ingest("default", "resume-ref", blob, {"--expected-digest", digest, "--expected-size", "6000000"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_THAT(daemon_->Log(), ContainsRegex("content writer opened\" ref=default/resume-ref offset=3145728 "
                                            "total=6000000 resumed=true"));
  r = Ctr("default", {"content", "ls", "-q"});
  EXPECT_EQ(r.out, digest + "\n");
  EXPECT_EQ(GetSha256("default", digest), digest);
  r = Ctr("default", {"content", "active"});
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("resume-ref")));
}

TEST_F(ContentE2E, BlobInTwoNamespacesIsStoredOnce) {
  fs::path blob = MakeBlob("blob", 500'000, 5);
  const std::string digest = Sha256File(blob);
  auto r = Ingest("n1", "ref", blob, {"--expected-digest", digest});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Ingest("n2", "ref", blob, {"--expected-digest", digest});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  // Without announcing the digest the data is sent, and still lands on the same file.
  r = Ingest("n3", "ref", blob);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(BlobFiles().size(), 1u);
  EXPECT_EQ(BlobFiles()[0], daemon_->root() / "content" / "blobs" / "sha256" / digest.substr(7));
  EXPECT_THAT(daemon_->Log(), HasSubstr("namespace=n2 ref=ref digest=" + digest + " shared=true"));

  for (const char* ns : {"n1", "n2", "n3"}) {
    r = Ctr(ns, {"content", "ls", "-q"});
    EXPECT_EQ(r.out, digest + "\n") << ns;
  }
  // Unreferenced content is collectable (as in containerd, `ctr content ingest` takes no
  // lease); the removal below schedules a collection, so n2 and n3 hold theirs as GC roots.
  for (const char* ns : {"n2", "n3"}) {
    r = Ctr(ns, {"content", "label", digest, "containerd.io/gc.root=test"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  const size_t collections = Count(daemon_->Log(), "garbage collected");
  r = Ctr("n1", {"content", "rm", digest});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ASSERT_TRUE(WaitUntil([&] { return Count(daemon_->Log(), "garbage collected") > collections; }))
      << "the removal runs a collection" << daemon_->Log();
  r = Ctr("n1", {"content", "ls", "-q"});
  EXPECT_EQ(r.out, "");
  r = Ctr("n1", {"content", "get", digest});
  EXPECT_NE(r.exit_code, 0) << "n1 no longer sees it";
  EXPECT_EQ(GetSha256("n2", digest), digest) << "n2's copy is intact";
  EXPECT_EQ(BlobFiles().size(), 1u);
}


// A registry on loopback serving a tiny OCI image (built by a python script, pushed by skopeo):
// `ctr content fetch` in a second namespace shares the blobs already on disk.
class ContentFetchE2E : public ContentE2E {
 protected:
  void SetUp() override {
    for (const char* tool : {"/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/python3"}) {
      if (!fs::exists(tool)) GTEST_SKIP() << tool << " is not installed";
    }
    ContentE2E::SetUp();
    port_ = FreePort();
    ASSERT_GT(port_, 0);
    const fs::path base = dir_->path();
    std::ofstream(base / "registry.yml") << "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: "
                                         << (base / "registry").string() << "\nhttp:\n  addr: 127.0.0.1:"
                                         << port_ << "\n";
    registry_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"/usr/bin/docker-registry", "serve", (base / "registry.yml").string()},
        base / "registry.log");
    std::ofstream(base / "mkimage.py") << kMakeImage;
    auto r = e2e::Run({"/usr/bin/python3", (base / "mkimage.py").string(), (base / "oci").string()});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      r = e2e::Run({"/usr/bin/skopeo", "copy", "--dest-tls-verify=false", "oci:" + (base / "oci").string() + ":v1",
                    "docker://" + Ref()});
      if (r.exit_code == 0 || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(200ms);  // the registry may not listen yet
    }
    ASSERT_EQ(r.exit_code, 0) << Describe(r) << registry_->Output();
  }
  std::string Ref() const { return "127.0.0.1:" + std::to_string(port_) + "/test/hello:v1"; }
  static int FreePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = -1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
  }

  static constexpr const char* kMakeImage = R"py(
import gzip, hashlib, io, json, os, sys, tarfile
root = sys.argv[1]
os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
def put(b):
    d = hashlib.sha256(b).hexdigest()
    open(os.path.join(root, "blobs", "sha256", d), "wb").write(b)
    return "sha256:" + d, len(b)
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w") as t:
    data = b"hello berth\n"
    ti = tarfile.TarInfo("hello.txt"); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
rawb = raw.getvalue()
ld, ls = put(gzip.compress(rawb, mtime=0))
cd, cs = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(rawb).hexdigest()]}}).encode())
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}]}).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "v1"}}]},
    open(os.path.join(root, "index.json"), "w"))
open(os.path.join(root, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
)py";

  int port_ = -1;
  std::unique_ptr<BackgroundProcess> registry_;
};

TEST_F(ContentFetchE2E, FetchInTwoNamespacesSharesBlobs) {
  auto r = Ctr("n1", {"content", "fetch", "--plain-http", Ref()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  r = Ctr("n1", {"content", "ls", "-q"});
  const std::string n1 = r.out;
  EXPECT_EQ(std::count(n1.begin(), n1.end(), '\n'), 3) << "manifest, config, layer:\n" << n1;
  EXPECT_EQ(BlobFiles().size(), 3u);

  r = Ctr("n2", {"content", "fetch", "--plain-http", Ref()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  r = Ctr("n2", {"content", "ls", "-q"});
  EXPECT_EQ(r.out, n1);
  EXPECT_EQ(BlobFiles().size(), 3u) << "stored once";
  EXPECT_THAT(daemon_->Log(), ContainsRegex("content committed\" namespace=n2 .* shared=true"));
  r = Ctr("n2", {"content", "ls"});
  EXPECT_THAT(r.out, HasSubstr("containerd.io/gc.ref.content.config=")) << "labels from the commit";
}

}  // namespace
}  // namespace berth::e2e
