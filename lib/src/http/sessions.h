// Browser sign-in sessions (POST /session): a random id in an HttpOnly
// cookie stands for the API key it was made from, with a CSRF token that
// state-changing requests authenticated by the cookie must echo in
// X-CSRF-Token (auth.cc).
//
// Sessions live in memory only: restarting the server signs everyone out.
// At most `max_sessions` are kept; making one more evicts the oldest (after
// the expired). A session expires `ttl` after it was made (no sliding).
//
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "faceatt/clock.h"
#include "faceatt/status.h"

namespace faceatt::http {

// The session cookie's name.
inline constexpr const char* kSessionCookie = "faceatt_session";

// Sessions kept at once: far more browsers than a site of ours has, and at a
// few hundred bytes each at most a few MB.
inline constexpr size_t kMaxSessions = 10000;

struct WebSession {
  std::string key;         // the API key it was made from ("" with no keys configured)
  std::string csrf_token;  // 64 hex digits
  int64_t expires_ms = 0;  // Unix ms
};

class SessionStore {
 public:
  SessionStore(const Clock* clock, int64_t ttl_ms, size_t max_sessions);

  // A new session for `key`: {id (64 hex digits of 32 random bytes), session}.
  // kInternal only when the system has no randomness to give.
  Result<std::pair<std::string, WebSession>> Create(const std::string& key);
  // The live session of `id`; nullopt when unknown or expired (then dropped).
  std::optional<WebSession> Find(const std::string& id);
  // Ends `id` (nothing when unknown).
  void Erase(const std::string& id);
  size_t size() const;

 private:
  struct Entry {
    WebSession session;
    std::list<std::string>::iterator order;  // position in order_
  };
  const Clock* clock_;
  const int64_t ttl_ms_;
  const size_t max_sessions_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> sessions_;  // under mu_
  std::list<std::string> order_;                     // ids, oldest first; under mu_
};

// `bytes` random bytes as hex (OpenSSL's RAND_bytes); kInternal when it fails.
Result<std::string> RandomHex(size_t bytes);

// The value of cookie `name` in the request's Cookie headers; "" when absent.
std::string CookieValue(const std::string& cookie_header, const std::string& name);

}  // namespace faceatt::http
