#include "berth/metrics_text.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "berth/output.h"

namespace berth::cli {
namespace {

// One bucket: (upper bound, cumulative count).
using Buckets = std::vector<std::pair<double, double>>;

// Linear interpolation inside the bucket the rank falls in, as histogram_quantile.
double Quantile(double q, Buckets b) {
  std::sort(b.begin(), b.end());
  if (b.empty() || b.back().second <= 0) return NAN;
  double rank = q * b.back().second;
  double prev_bound = 0, prev_count = 0;
  for (const auto& [bound, count] : b) {
    if (count >= rank) {
      if (std::isinf(bound)) return prev_bound;  // the highest finite bound
      if (count == prev_count) return bound;
      return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count);
    }
    prev_bound = bound;
    prev_count = count;
  }
  return prev_bound;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "-";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{:.6g}", v);
}

std::string FormatSeconds(double s) {
  if (std::isnan(s)) return "-";
  if (s < 1e-3) return fmt::format("{:.1f}us", s * 1e6);
  if (s < 1) return fmt::format("{:.1f}ms", s * 1e3);
  return fmt::format("{:.2f}s", s);
}

// Splits `name{labels} value [timestamp]`; `le` taken out of the labels.
Status ParseSample(const std::string& line, MetricSample* out) {
  size_t brace = line.find('{');
  size_t space = line.find(' ');
  std::string rest;
  if (brace != std::string::npos && brace < space) {
    size_t close = line.find("} ", brace);
    if (close == std::string::npos) return InvalidArgument("metrics: bad sample line {:?}", line);
    out->name = line.substr(0, brace);
    std::string labels = line.substr(brace + 1, close - brace - 1);
    // Take le="..." out (it is never inside another label's quoted value in our output).
    std::vector<std::string> kept;
    std::stringstream ss(labels);
    for (std::string part; std::getline(ss, part, ',');) {
      if (part.starts_with("le=\"")) {
        out->le = part.substr(4, part.size() - 5);
      } else if (!part.empty()) {
        kept.push_back(part);
      }
    }
    for (size_t i = 0; i < kept.size(); ++i) out->labels += (i ? "," : "") + kept[i];
    rest = line.substr(close + 2);
  } else {
    if (space == std::string::npos) return InvalidArgument("metrics: bad sample line {:?}", line);
    out->name = line.substr(0, space);
    rest = line.substr(space + 1);
  }
  std::string value = rest.substr(0, rest.find(' '));
  if (value == "+Inf") {
    out->value = INFINITY;
  } else if (value == "-Inf") {
    out->value = -INFINITY;
  } else if (value == "NaN") {
    out->value = NAN;
  } else {
    char* end = nullptr;
    out->value = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0') return InvalidArgument("metrics: bad value in {:?}", line);
  }
  return Status::Ok();
}

}  // namespace

Result<MetricsView> ParseMetricsText(const std::string& text) {
  std::map<std::string, std::string> types;  // family -> type
  std::map<std::pair<std::string, std::string>, HistogramSummary> hist;
  std::map<std::pair<std::string, std::string>, Buckets> buckets;
  MetricsView view;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.starts_with("# TYPE ")) {
      std::stringstream ls(line.substr(7));
      std::string name, type;
      ls >> name >> type;
      types[name] = type;
      continue;
    }
    if (line.front() == '#') continue;
    MetricSample s;
    BERTH_RETURN_IF_ERROR(ParseSample(line, &s));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (!s.name.ends_with(suffix)) continue;
      std::string family = s.name.substr(0, s.name.size() - std::string_view(suffix).size());
      if (types[family] != "histogram") continue;
      auto key = std::make_pair(family, s.labels);
      HistogramSummary& h = hist[key];
      h.name = family;
      h.labels = s.labels;
      if (std::string_view(suffix) == "_bucket") {
        buckets[key].emplace_back(s.le == "+Inf" ? INFINITY : std::strtod(s.le.c_str(), nullptr), s.value);
      } else if (std::string_view(suffix) == "_sum") {
        h.sum = s.value;
      } else {
        h.count = s.value;
      }
      s.name.clear();
      break;
    }
    if (!s.name.empty()) view.plain.push_back(std::move(s));
  }
  for (auto& [key, h] : hist) {
    h.p50 = Quantile(0.5, buckets[key]);
    h.p95 = Quantile(0.95, buckets[key]);
    h.p99 = Quantile(0.99, buckets[key]);
    view.histograms.push_back(h);
  }
  return view;
}

std::string RenderMetrics(const MetricsView& view, const std::string& filter) {
  Table values({"NAME", "LABELS", "VALUE"});
  for (const auto& s : view.plain) {
    if (s.name.find(filter) == std::string::npos) continue;
    values.AddRow({s.name, s.labels, FormatValue(s.value)});
  }
  Table hists({"HISTOGRAM", "LABELS", "COUNT", "MEAN", "P50", "P95", "P99"});
  bool any = false;
  for (const auto& h : view.histograms) {
    if (h.name.find(filter) == std::string::npos) continue;
    any = true;
    bool seconds = h.name.ends_with("_seconds");
    auto show = [&](double v) { return seconds ? FormatSeconds(v) : FormatValue(v); };
    double mean = h.count > 0 ? h.sum / h.count : NAN;
    hists.AddRow({h.name, h.labels, FormatValue(h.count), show(mean), show(h.p50), show(h.p95), show(h.p99)});
  }
  std::string out = values.Render();
  if (any) out += "\n" + hists.Render();
  return out;
}

}  // namespace berth::cli
