// Registry against in-process fake servers (fake_http_server.h): where credentials go, which
// requests are resent, what URLs reach messages and logs, the scheme, token requests.
#include "remotes/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <sstream>

#include "fake_http_server.h"
#include "images/rootfs.h"
#include "remotes/base64.h"

namespace berth::remotes {
namespace {

using namespace std::chrono_literals;
using fakehttp::FakeHttpServer;
using fakehttp::FakeReply;
using fakehttp::FakeRequest;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBlobType[] = "application/octet-stream";

RegistryOptions Fast(CredentialsFn creds = nullptr) {
  RegistryOptions o;
  o.credentials = std::move(creds);
  o.retries = 3;
  o.backoff = 1ms;
  o.connect_timeout = 5s;
  return o;
}

CredentialsFn Fixed(std::string user, std::string secret, std::atomic<int>* asked = nullptr) {
  return [=](const std::string&) -> std::optional<Credentials> {
    if (asked != nullptr) ++*asked;
    return Credentials{.username = user, .secret = secret};
  };
}

std::unique_ptr<Registry> MustOpen(const std::string& host, RegistryOptions o) {
  auto r = Registry::Open(host, std::move(o));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

BlobSource SourceOf(const std::string& data) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, pos](std::span<char> buf) -> Result<size_t> {
    size_t n = std::min(buf.size(), data.size() - *pos);
    std::copy_n(data.data() + *pos, n, buf.data());
    *pos += n;
    return n;
  };
}

Descriptor BlobDesc(const std::string& data) {
  return {.media_type = kBlobType, .digest = images::Sha256Digest(data), .size = static_cast<int64_t>(data.size())};
}

FakeReply Unauthorized(const std::string& challenge) {
  return {.status = 401,
          .headers = {{"WWW-Authenticate", challenge}},
          .body = R"({"errors":[{"code":"UNAUTHORIZED"}]})"};
}

size_t Count(const std::vector<FakeRequest>& reqs, const std::string& method) {
  return static_cast<size_t>(
      std::count_if(reqs.begin(), reqs.end(), [&](const auto& r) { return r.method == method; }));
}

// The default logger writes into a string at debug level for the life of this object.
class LogCapture {
 public:
  LogCapture() : saved_(spdlog::default_logger()), level_(spdlog::get_level()) {
    auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::debug);
  }
  ~LogCapture() {
    spdlog::set_default_logger(saved_);
    spdlog::set_level(level_);
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> saved_;
  spdlog::level::level_enum level_;
};

// A registry behind Basic auth whose upload sessions live on a storage server (another
// origin), as registries fronting object storage hand out.
class RegistryCrossOriginUploadTest : public ::testing::Test {
 protected:
  RegistryCrossOriginUploadTest()
      : storage_([this](const FakeRequest& r) { return AtStorage(r); }),
        registry_([this](const FakeRequest& r) { return AtRegistry(r); }) {}

  FakeReply AtStorage(const FakeRequest& r) {
    if (r.method == "PATCH") return {.status = 202, .headers = {{"Location", storage_.origin() + "/up/1?_state=next"}}};
    if (r.method == "PUT") return {.status = 201};
    return {.status = 405};
  }
  FakeReply AtRegistry(const FakeRequest& r) {
    if (r.Header("authorization") != "Basic " + Base64Encode("u:p")) return Unauthorized(R"(Basic realm="r")");
    if (r.method == "POST") {
      std::string where = upload_here_ ? "/v2/repo/blobs/uploads/1?_state=s" : storage_.origin() + "/up/1?_state=s";
      return {.status = 202, .headers = {{"Location", where}}};
    }
    if (r.method == "PATCH") return {.status = 202, .headers = {{"Location", "/v2/repo/blobs/uploads/1?_state=n"}}};
    if (r.method == "PUT") return {.status = 201};
    return {.status = 404};
  }

  FakeHttpServer storage_;
  FakeHttpServer registry_;
  bool upload_here_ = false;
};

TEST_F(RegistryCrossOriginUploadTest, NoCredentialsToAnUploadLocationOnAnotherOrigin) {
  auto reg = MustOpen(registry_.host(), Fast(Fixed("u", "p")));
  const std::string small(3000, 's'), big(5000, 'b');
  ASSERT_TRUE(reg->PushBlob("repo", BlobDesc(small), SourceOf(small)).ok());
  Status st = reg->PushBlob("repo", BlobDesc(big), SourceOf(big), 2048);  // PATCH, PATCH, PATCH, PUT
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto at_storage = storage_.requests();
  ASSERT_EQ(at_storage.size(), 5u);
  EXPECT_EQ(Count(at_storage, "PATCH"), 3u);
  for (const auto& r : at_storage) {
    EXPECT_EQ(r.Header("authorization"), "") << r.method << " " << r.target << ": credentials left the registry";
  }
}

TEST_F(RegistryCrossOriginUploadTest, CredentialsStillGoToLocationsOnTheRegistry) {
  upload_here_ = true;
  auto reg = MustOpen(registry_.host(), Fast(Fixed("u", "p")));
  const std::string big(5000, 'b');
  Status st = reg->PushBlob("repo", BlobDesc(big), SourceOf(big), 2048);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(storage_.requests().empty());
  EXPECT_EQ(Count(registry_.requests(), "PATCH"), 3u);
}

// A registry whose first PATCH fails with 500 (it may have stored part of the chunk).
TEST(RegistryRetryTest, FailedPatchFailsTheUploadAndIsNotResent) {
  int patches = 0;
  FakeHttpServer server([&](const FakeRequest& r) -> FakeReply {
    if (r.method == "POST") return {.status = 202, .headers = {{"Location", "/v2/repo/blobs/uploads/u?_state=S1"}}};
    if (r.method == "PATCH") {
      if (patches++ == 0) return {.status = 500, .body = R"({"errors":[{"code":"UNKNOWN","message":"disk"}]})"};
      return {.status = 202, .headers = {{"Location", "/v2/repo/blobs/uploads/u?_state=S2"}}};
    }
    if (r.method == "PUT") return {.status = 201};
    return {.status = 404};
  });
  auto reg = MustOpen(server.host(), Fast());
  const std::string big(5000, 'b');
  Status st = reg->PushBlob("repo", BlobDesc(big), SourceOf(big), 2048);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.ToString(), HasSubstr("HTTP 500"));
  auto reqs = server.requests();
  EXPECT_EQ(Count(reqs, "PATCH"), 1u) << "a PATCH is not idempotent";
  EXPECT_EQ(Count(reqs, "PUT"), 0u);
}

TEST(RegistryRetryTest, IdempotentRequestsAndUploadStartAreRetriedOn5xx) {
  int posts = 0, heads = 0;
  FakeHttpServer server([&](const FakeRequest& r) -> FakeReply {
    if (r.method == "POST") {
      if (posts++ == 0) return {.status = 503};
      return {.status = 202, .headers = {{"Location", "/v2/repo/blobs/uploads/u"}}};
    }
    if (r.method == "HEAD") return {.status = heads++ == 0 ? 502 : 404};
    if (r.method == "PUT") return {.status = 201};
    return {.status = 404};
  });
  auto reg = MustOpen(server.host(), Fast());
  const std::string small(100, 's');
  auto exists = reg->BlobExists("repo", BlobDesc(small).digest);
  ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  EXPECT_FALSE(*exists);
  Status st = reg->PushBlob("repo", BlobDesc(small), SourceOf(small));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(posts, 2);
}

TEST(RegistryRedactionTest, SignedQueriesAndUserInfoStayOutOfErrorsAndLogs) {
  LogCapture log;
  // Uploads go to a "storage" URL with user info and a signature, on a port nothing listens on.
  FakeHttpServer server([&](const FakeRequest& r) -> FakeReply {
    if (r.method == "POST") {
      return {.status = 202,
              .headers = {{"Location", "http://key:PASSWORD@127.0.0.1:1/up?_state=STATE&X-Amz-Signature=SIGNATURE"}}};
    }
    return {.status = 404};
  });
  auto reg = MustOpen(server.host(), Fast());
  const std::string small(100, 's');
  // Chunked: the PATCH that cannot connect is retried (and logged as such), then given up.
  Status st = reg->PushBlob("repo", BlobDesc(small), SourceOf(small), 50);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.Is(Errc::kUnavailable)) << st.ToString();
  EXPECT_THAT(st.ToString(), HasSubstr("http://127.0.0.1:1/up"));
  std::string logged = log.text();
  EXPECT_THAT(logged, HasSubstr("registry request"));
  EXPECT_THAT(logged, HasSubstr("registry request retried"));
  for (const char* secret : {"STATE", "SIGNATURE", "PASSWORD", "key:"}) {
    EXPECT_THAT(st.ToString(), Not(HasSubstr(secret)));
    EXPECT_THAT(logged, Not(HasSubstr(secret)));
  }
}

TEST(RegistrySchemeTest, LoopbackRegistryIsPlainHttpWithoutTheFlag) {
  const std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})";
  FakeHttpServer server([&](const FakeRequest& r) -> FakeReply {
    if (r.Path() != "/v2/app/manifests/v1") return {.status = 404};
    return {.status = 200,
            .headers = {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"},
                        {"Docker-Content-Digest", images::Sha256Digest(manifest)}},
            .body = manifest};
  });
  RegistryOptions o = Fast();
  ASSERT_FALSE(o.plain_http);
  auto reg = MustOpen(server.host(), o);
  auto ref = ParseReference(server.host() + "/app:v1");
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  auto desc = reg->Resolve(*ref);
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  EXPECT_EQ(desc->digest, images::Sha256Digest(manifest));

  // Asked for https, the plain http server cannot answer.
  o.loopback_https = true;
  o.retries = 0;
  auto tls = MustOpen(server.host(), o);
  EXPECT_TRUE(tls->Resolve(*ref).status().Is(Errc::kUnavailable));
}

// A registry behind Bearer tokens: `challenge_scope` in its challenge, a token server that
// takes the OAuth2 POST only when `oauth` is set, and GET with Basic credentials.
class RegistryTokenTest : public ::testing::Test {
 protected:
  RegistryTokenTest() : server_([this](const FakeRequest& r) { return Handle(r); }) {}

  FakeReply Handle(const FakeRequest& r) {
    if (r.Path() == "/token") {
      if (r.method == "POST") {
        if (!oauth_) return {.status = 404};
        return {.status = 200, .body = R"({"access_token":"tok-post","expires_in":300})"};
      }
      if (r.Header("authorization").empty()) return {.status = 401};
      return {.status = 200, .body = R"({"token":"tok-get","expires_in":300})"};
    }
    std::string auth = r.Header("authorization");
    if (auth != "Bearer tok-post" && auth != "Bearer tok-get") {
      return Unauthorized("Bearer realm=\"" + server_.origin() + "/token\",service=\"svc\"" +
                          (challenge_scope_.empty() ? "" : ",scope=\"" + challenge_scope_ + "\""));
    }
    return {.status = 404};  // no blobs: BlobExists says false
  }
  std::vector<FakeRequest> TokenRequests() const {
    std::vector<FakeRequest> out;
    for (auto& r : server_.requests()) {
      if (r.Path() == "/token") out.push_back(r);
    }
    return out;
  }

  FakeHttpServer server_;
  bool oauth_ = true;
  std::string challenge_scope_;
};

TEST_F(RegistryTokenTest, ChallengeScopeIsAskedForWithTheRepositorys) {
  challenge_scope_ = "repository:other:pull registry:catalog:*";
  auto reg = MustOpen(server_.host(), Fast(Fixed("u", "p")));
  auto exists = reg->BlobExists("repo", images::Sha256Digest("x"));
  ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  auto tokens = TokenRequests();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].method, "GET");
  EXPECT_THAT(tokens[0].target, HasSubstr("service=svc"));
  EXPECT_THAT(tokens[0].target, HasSubstr("scope=repository%3Arepo%3Apull"));
  EXPECT_THAT(tokens[0].target, HasSubstr("scope=repository%3Aother%3Apull"));
  EXPECT_THAT(tokens[0].target, HasSubstr("scope=registry%3Acatalog%3A%2A"));
}

TEST_F(RegistryTokenTest, IdentityTokenIsExchangedWithOAuthPost) {
  auto reg = MustOpen(server_.host(), Fast(Fixed("", "REFRESH")));
  ASSERT_TRUE(reg->BlobExists("repo", images::Sha256Digest("x")).ok());
  auto tokens = TokenRequests();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].method, "POST");
  EXPECT_THAT(tokens[0].Header("content-type"), HasSubstr("application/x-www-form-urlencoded"));
  EXPECT_THAT(tokens[0].body, HasSubstr("grant_type=refresh_token"));
  EXPECT_THAT(tokens[0].body, HasSubstr("refresh_token=REFRESH"));
  EXPECT_THAT(tokens[0].body, HasSubstr("service=svc"));
  EXPECT_THAT(tokens[0].body, HasSubstr("scope=repository%3Arepo%3Apull"));
  EXPECT_EQ(tokens[0].target, "/token") << "the secret goes in the body, not the URL";
}

TEST_F(RegistryTokenTest, IdentityTokenFallsBackToGetWhenPostIsNotSupported) {
  oauth_ = false;
  auto reg = MustOpen(server_.host(), Fast(Fixed("", "REFRESH")));
  auto exists = reg->BlobExists("repo", images::Sha256Digest("x"));
  ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  auto tokens = TokenRequests();
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].method, "POST");
  EXPECT_EQ(tokens[1].method, "GET");
  EXPECT_EQ(tokens[1].Header("authorization"), "Basic " + Base64Encode(":REFRESH"));
  // The GET's token is the one used.
  EXPECT_EQ(server_.requests().back().Header("authorization"), "Bearer tok-get");
}

TEST(RegistryCredentialsTest, AskedOncePerRegistry) {
  std::atomic<int> asked{0};
  FakeHttpServer server([&](const FakeRequest& r) -> FakeReply {
    if (r.Header("authorization") != "Basic " + Base64Encode("u:p")) return Unauthorized(R"(Basic realm="r")");
    return {.status = 404};
  });
  auto reg = MustOpen(server.host(), Fast(Fixed("u", "p", &asked)));
  for (int i = 0; i < 4; ++i) {
    auto exists = reg->BlobExists("repo", images::Sha256Digest(std::to_string(i)));
    ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  }
  EXPECT_EQ(asked.load(), 1) << "a docker config.json is read once per registry, not per request";
}

}  // namespace
}  // namespace berth::remotes
