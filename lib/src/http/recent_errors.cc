#include "http/recent_errors.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace faceatt::http {

void RecentErrors::Add(RecentError e) {
  std::lock_guard lock(mu_);
  errors_.push_back(std::move(e));
  while (errors_.size() > kRecentErrors) errors_.pop_front();
}

std::vector<RecentError> RecentErrors::List() const {
  std::lock_guard lock(mu_);
  return {errors_.begin(), errors_.end()};
}

namespace {

// The RecentErrors of the servers running now (one, but tests run several).
std::mutex registry_mu;
std::vector<std::shared_ptr<RecentErrors>> registry;  // under registry_mu

class Sink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  Sink() { set_level(spdlog::level::warn); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    const auto level = spdlog::level::to_string_view(msg.level);
    const RecentError e{ms, "log", 0, std::string(level.data(), level.size()),
                        std::string(msg.payload.data(), msg.payload.size())};
    std::lock_guard lock(registry_mu);
    for (const auto& errors : registry) errors->Add(e);
  }
  void flush_() override {}
};

}  // namespace

void LogInto(const std::shared_ptr<RecentErrors>& errors) {
  static std::once_flag installed;
  std::call_once(installed,
                 [] { spdlog::default_logger()->sinks().push_back(std::make_shared<Sink>()); });
  std::lock_guard lock(registry_mu);
  registry.push_back(errors);
}

void StopLogging(const RecentErrors* errors) {
  std::lock_guard lock(registry_mu);
  for (auto it = registry.begin(); it != registry.end();)
    it = it->get() == errors ? registry.erase(it) : std::next(it);
}

}  // namespace faceatt::http
