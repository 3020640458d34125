// Prometheus text-format metrics kept in memory: counters and histograms with
// labels. Thread safety: all methods may be called from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace faceatt::http {

class Metrics {
 public:
  // labels: `route="/identify",method="POST"` (already escaped), or "".
  void Count(const std::string& name, const std::string& labels, double by = 1);
  void Observe(const std::string& name, const std::string& labels, double seconds);
  double CounterValue(const std::string& name, const std::string& labels) const;
  // Renders everything; `extra` lines (gauges computed on demand) are appended.
  std::string Render(const std::string& extra) const;
  static std::string Escape(const std::string& value);

 private:
  struct Histogram {
    std::vector<double> buckets;  // cumulative counts per kBounds entry
    double sum = 0;
    double count = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, double>> counters_;
  std::map<std::string, std::map<std::string, Histogram>> histograms_;
};

}  // namespace faceatt::http
