#include "faceatt/webhook.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <regex>

namespace faceatt {
namespace {
// A delivery pass ends after this many rows, so Stop() is never kept long.
constexpr int kMaxRowsPerPass = 50;
}  // namespace

std::string WebhookSignature(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

WebhookDispatcher::WebhookDispatcher(WebhookConfig config, OutboxStore* store, const Clock* clock,
                                     WebhookOptions options)
    : config_(std::move(config)),
      store_(store),
      clock_(clock),
      options_(options),
      owner_(options_.owner.empty() ? ProcessOwnerName() : options_.owner) {}

std::string ProcessOwnerName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "host");
  return std::string(host) + ":" + std::to_string(getpid());
}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

std::vector<OutboxItem> WebhookDispatcher::Prepare(const std::string& event,
                                                   const std::string& payload,
                                                   const std::string& cooldown_key) {
  if (config_.urls.empty()) return {};
  const int64_t now = clock_->NowMillis();
  std::vector<OutboxItem> rows;
  for (const auto& url : config_.urls) {
    OutboxItem item;
    item.url = url;
    item.event = event;
    item.body = payload;
    item.next_attempt_ms = now;
    item.cooldown_key = cooldown_key;
    item.cooldown_ms = int64_t{config_.cooldown_seconds} * 1000;
    rows.push_back(std::move(item));
  }
  return rows;
}

void WebhookDispatcher::Queued(int prepared, int stored) {
  if (prepared <= 0) return;
  {
    std::lock_guard lock(mu_);
    if (stored == 0) ++counters_.suppressed;
    counters_.queued += stored;
    if (stored > 0) wake_ = true;
  }
  cv_.notify_all();
}

void WebhookDispatcher::Start() {
  if (thread_.joinable() || config_.urls.empty()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void WebhookDispatcher::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  DeliverDue();  // flush: one last pass over what is due
}

WebhookCounters WebhookDispatcher::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

void WebhookDispatcher::Loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                   [&] { return stop_ || wake_; });
      if (stop_) return;
      wake_ = false;
    }
    DeliverDue();
  }
}

void WebhookDispatcher::DeliverDue() {
  std::lock_guard pass(deliver_mu_);
  // A claim is a few rows, so that delivering them (each up to three timeouts:
  // connect, write, read) ends well inside the lease.
  const int64_t per_row_ms = 3 * int64_t{config_.timeout_seconds} * 1000 + 1000;
  const int64_t lease_ms = int64_t{config_.lease_seconds} * 1000;
  const int batch = static_cast<int>(std::clamp<int64_t>(lease_ms / per_row_ms, 1, 10));
  for (int delivered = 0; delivered < kMaxRowsPerPass;) {
    auto due = store_->ClaimOutbox(clock_->NowMillis(), batch, owner_, lease_ms);
    if (!due.ok()) {
      spdlog::warn("webhooks: {}", due.status().message());
      return;
    }
    if (due->empty()) return;
    for (auto& item : *due) DeliverOne(std::move(item));
    delivered += static_cast<int>(due->size());
  }
}

namespace {
struct ParsedUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;
};
std::optional<ParsedUrl> ParseUrl(const std::string& url) {
  static const std::regex re(R"(^(https?://[^/?#]+)([^#]*)$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, re)) return std::nullopt;
  ParsedUrl p{m[1].str(), m[2].str()};
  if (p.path.empty()) p.path = "/";
  return p;
}
}  // namespace

void WebhookDispatcher::DeliverOne(OutboxItem item) {
  ++item.attempts;
  std::string error;
  int http_status = 0;
  if (auto url = ParseUrl(item.url)) {
    httplib::Client client(url->origin);
    client.set_connection_timeout(config_.timeout_seconds, 0);
    client.set_read_timeout(config_.timeout_seconds, 0);
    client.set_write_timeout(config_.timeout_seconds, 0);
    httplib::Headers headers{{"User-Agent", "faceatt-webhook"},
                             {"X-Faceatt-Event", item.event},
                             {"X-Faceatt-Delivery", std::to_string(item.id)}};
    if (!config_.bearer_token.empty())
      headers.emplace("Authorization", "Bearer " + config_.bearer_token);
    if (!config_.secret.empty())
      headers.emplace(kSignatureHeader, WebhookSignature(config_.secret, item.body));
    auto res = client.Post(url->path, headers, item.body, "application/json");
    if (!res) {
      error = "no answer: " + httplib::to_string(res.error());
    } else {
      http_status = res->status;
      if (res->status < 200 || res->status >= 300) error = "HTTP " + std::to_string(res->status);
    }
  } else {
    error = "not an http(s) URL";
  }
  const int64_t now = clock_->NowMillis();
  item.last_http_status = http_status;
  item.last_error = error;
  {
    std::lock_guard lock(mu_);
    if (error.empty()) {
      ++counters_.delivered;
    } else {
      ++counters_.failed_attempts;
      if (item.attempts >= config_.max_attempts) ++counters_.gave_up;
    }
  }
  if (error.empty()) {
    item.status = kOutboxDelivered;
    item.delivered_ms = now;
  } else if (item.attempts >= config_.max_attempts) {
    item.status = kOutboxFailed;
    spdlog::warn("webhook {} to {}: giving up after {} attempts ({})", item.id, item.url,
                 item.attempts, error);
  } else {
    int64_t delay = options_.retry_base_ms;
    for (int i = 1; i < item.attempts && delay < options_.retry_max_ms; ++i) delay *= 2;
    item.next_attempt_ms = now + std::min(delay, options_.retry_max_ms);
    spdlog::info("webhook {} to {}: {}; retry {} in {} ms", item.id, item.url, error,
                 item.attempts + 1, std::min(delay, options_.retry_max_ms));
  }
  Status st = store_->UpdateOutbox(item);
  if (!st.ok()) spdlog::warn("webhooks: {}", st.message());
}

}  // namespace faceatt
