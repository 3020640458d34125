// The last errors the server met, for the admin page (GET /errors/recent):
// every answer with a 5xx status (route, code, message) and every log line at
// warn or error (camera, webhooks, sweeps), newest last, at most
// kRecentErrors of them (a ring: older ones are dropped).
//
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace faceatt::http {

// Enough to see what went wrong today on one screen; a few KB.
inline constexpr size_t kRecentErrors = 50;

struct RecentError {
  int64_t ts_ms = 0;
  std::string source;  // "METHOD /route" of an answer, "log" for a log line
  int code = 0;        // the HTTP status; 0 for a log line
  std::string level;   // "error" for answers; the log level for log lines
  std::string message;
};

class RecentErrors {
 public:
  void Add(RecentError e);
  std::vector<RecentError> List() const;

 private:
  mutable std::mutex mu_;
  std::deque<RecentError> errors_;  // oldest first; under mu_
};

// From now on, log lines at warn and above also go to `errors`, until
// StopLogging(errors). The first call adds one sink to spdlog's default
// logger, once per process (a sink list is not safe to change while others log).
void LogInto(const std::shared_ptr<RecentErrors>& errors);
void StopLogging(const RecentErrors* errors);

}  // namespace faceatt::http
