// Webhooks: attendance events are written to the SQLite outbox first, one row
// per URL, in the same transaction as the attendance row they announce
// (Prepare() -> Attempt::events -> AttendanceStore::AddAttendanceAfter), and delivered by
// a background thread, so nothing is lost when a receiver is down, the server
// restarts or the process dies between the two writes.
//
// Delivery: POST of the JSON body with Content-Type application/json,
// `Authorization: Bearer <bearer_token>` when set, and
// `X-Faceatt-Signature: sha256=<hex HMAC-SHA256 of the body with secret>` when a
// secret is set. A 2xx answer marks the row delivered; anything else (or no
// answer) is retried with exponential backoff (retry_base, doubling, capped at
// retry_max) until max_attempts, then the row is marked failed.
//
// A per-person cooldown (WebhookConfig::cooldown_seconds) suppresses repeated
// events for the same key (the employee id, or "unknown:<device id>"); the store
// keeps it (OutboxItem::cooldown_key), so it holds across serve nodes.
//
// Several nodes on one database: each pass claims due rows with a lease
// (OutboxStore::ClaimOutbox, owner = this process), so one node at a time
// delivers a row; the rows of a node that dies are delivered by another once
// the lease (WebhookConfig::lease_seconds) runs out.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "faceatt/clock.h"
#include "faceatt/config.h"
#include "faceatt/store.h"

namespace faceatt {

inline constexpr const char* kEventRecognized = "attendance.recognized";
inline constexpr const char* kEventUnknown = "attendance.unknown";
inline constexpr const char* kSignatureHeader = "X-Faceatt-Signature";

// "sha256=" + lower-case hex HMAC-SHA256(secret, body).
std::string WebhookSignature(std::string_view secret, std::string_view body);

struct WebhookOptions {
  int64_t retry_base_ms = 1000;    // first retry after this; doubles each attempt
  int64_t retry_max_ms = 300'000;  // backoff cap
  int64_t poll_ms = 500;           // how often the outbox is looked at when idle
  std::string owner;               // lease owner; "" = <host>:<pid>
};

// This process's name as a lease owner: "<host name>:<pid>".
std::string ProcessOwnerName();

struct WebhookCounters {
  int64_t delivered = 0;
  int64_t failed_attempts = 0;
  int64_t gave_up = 0;
  int64_t suppressed = 0;  // by the per-person cooldown
  int64_t queued = 0;
};

class WebhookDispatcher {
 public:
  WebhookDispatcher(WebhookConfig config, OutboxStore* store, const Clock* clock,
                    WebhookOptions options = {});
  ~WebhookDispatcher();  // Stop()

  bool enabled() const { return !config_.urls.empty(); }

  // The outbox rows for `payload` (a JSON object text), one per URL, carrying
  // `cooldown_key` and the cooldown (the store drops them when the key had an
  // event within it); none when webhooks are off. The caller stores them, with
  // the record they announce in one transaction (Attempt::events), then calls
  // Queued().
  std::vector<OutboxItem> Prepare(const std::string& event, const std::string& payload,
                                  const std::string& cooldown_key);
  // Of `prepared` rows, `stored` were stored (0: the cooldown suppressed the
  // event): deliver them now.
  void Queued(int prepared, int stored);

  void Start();
  // Delivers what is due once more (bounded by the delivery timeout per row),
  // then stops the thread. Undelivered rows stay in the outbox.
  void Stop();
  // One delivery pass over the due rows (the thread's loop body).
  void DeliverDue();

  WebhookCounters counters() const;

 private:
  void Loop();
  void DeliverOne(OutboxItem item);

  WebhookConfig config_;
  OutboxStore* store_;
  const Clock* clock_;
  WebhookOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;
  WebhookCounters counters_;
  std::string owner_;      // this dispatcher's lease owner name
  std::mutex deliver_mu_;  // one delivery pass at a time
  std::thread thread_;
};

}  // namespace faceatt
