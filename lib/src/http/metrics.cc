#include "http/metrics.h"

#include <cstdio>
#include <cstdlib>

namespace faceatt::http {
namespace {
// Latency bucket bounds in seconds: from a cached answer to a slow CPU-only identify.
const double kBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
constexpr size_t kBucketCount = sizeof(kBounds) / sizeof(kBounds[0]);

// The shortest text that reads back as the same double ("0.005", not
// "0.0050000000000000001").
std::string Num(double v) {
  char buf[64];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}
std::string Join(const std::string& labels, const std::string& more) {
  if (labels.empty()) return "{" + more + "}";
  return "{" + labels + "," + more + "}";
}
}  // namespace

std::string Metrics::Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void Metrics::Count(const std::string& name, const std::string& labels, double by) {
  std::lock_guard lock(mu_);
  counters_[name][labels] += by;
}

double Metrics::CounterValue(const std::string& name, const std::string& labels) const {
  std::lock_guard lock(mu_);
  auto it = counters_.find(name);
  if (it == counters_.end()) return 0;
  auto jt = it->second.find(labels);
  return jt == it->second.end() ? 0 : jt->second;
}

void Metrics::Observe(const std::string& name, const std::string& labels, double seconds) {
  std::lock_guard lock(mu_);
  Histogram& h = histograms_[name][labels];
  if (h.buckets.empty()) h.buckets.assign(kBucketCount, 0);
  for (size_t i = 0; i < kBucketCount; ++i)
    if (seconds <= kBounds[i]) h.buckets[i] += 1;
  h.sum += seconds;
  h.count += 1;
}

std::string Metrics::Render(const std::string& extra) const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, series] : counters_) {
    out += "# TYPE " + name + " counter\n";
    for (const auto& [labels, v] : series)
      out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + Num(v) + "\n";
  }
  for (const auto& [name, series] : histograms_) {
    out += "# TYPE " + name + " histogram\n";
    for (const auto& [labels, h] : series) {
      for (size_t i = 0; i < kBucketCount; ++i)
        out += name + "_bucket" + Join(labels, "le=\"" + Num(kBounds[i]) + "\"") + " " +
               Num(h.buckets[i]) + "\n";
      out += name + "_bucket" + Join(labels, "le=\"+Inf\"") + " " + Num(h.count) + "\n";
      const std::string l = labels.empty() ? "" : "{" + labels + "}";
      out += name + "_sum" + l + " " + Num(h.sum) + "\n";
      out += name + "_count" + l + " " + Num(h.count) + "\n";
    }
  }
  return out + extra;
}

}  // namespace faceatt::http
