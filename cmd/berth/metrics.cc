// berth metrics [ADDRESS]: berthd's Prometheus metrics ([metrics] address, containerd's key),
// fetched from http://ADDRESS/v1/metrics and shown as tables: every counter and gauge, and each
// histogram (the container start time, gRPC handling, GC) as count, mean and quantiles.
#include <curl/curl.h>

#include <iostream>

#include "berth/cli.h"
#include "berth/metrics_text.h"

namespace berth::cli {
namespace {

struct MetricsArgs {
  std::string address = "127.0.0.1:1338";
  std::string filter;
  bool raw = false;
};

Result<std::string> Fetch(const std::string& url) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status(Errc::kResourceExhausted, "curl: cannot initialise");
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* p, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, size * n);
    return size * n;
  });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return Unavailable("{}: {} (is [metrics] address set in berthd's config?)", url, curl_easy_strerror(rc));
  }
  if (code != 200) return Status(Errc::kUnknown, fmt::format("{}: HTTP {}", url, code));
  return body;
}

int RunMetrics(const GlobalOptions&, const MetricsArgs& args) {
  std::string url = args.address.starts_with("http") ? args.address : "http://" + args.address + "/v1/metrics";
  auto text = Fetch(url);
  if (!text.ok()) return Fail(text.status());
  if (args.raw) {
    std::cout << *text << std::flush;
    return 0;
  }
  auto view = ParseMetricsText(*text);
  if (!view.ok()) return Fail(view.status());
  std::cout << RenderMetrics(*view, args.filter) << std::flush;
  return 0;
}

}  // namespace

void AddMetricsCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<MetricsArgs>();
  auto* cmd = app.add_subcommand("metrics", "Show berthd's Prometheus metrics ([metrics] address) as tables");
  cmd->add_option("address", args->address, "host:port of berthd's [metrics] address, or a full URL")
      ->capture_default_str();
  cmd->add_option("--filter", args->filter, "Only metrics whose name contains this");
  cmd->add_flag("--raw", args->raw, "Print the text exposition as served");
  Bind(cli, cmd, args, RunMetrics);
}

}  // namespace berth::cli
