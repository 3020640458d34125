#include "http/sessions.h"

#include <openssl/rand.h>

#include "http/auth.h"
#include "http/errors.h"
#include "http/request_body.h"
#include "http/routes.h"

namespace faceatt::http {

// Bytes of randomness in a session id and a CSRF token: 256 bits, beyond guessing.
constexpr size_t kTokenBytes = 32;

Result<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    return Status::Internal("no randomness available for a session id");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes * 2);
  for (unsigned char c : raw) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

std::string CookieValue(const std::string& cookie_header, const std::string& name) {
  size_t pos = 0;
  while (pos < cookie_header.size()) {
    size_t end = cookie_header.find(';', pos);
    if (end == std::string::npos) end = cookie_header.size();
    size_t b = cookie_header.find_first_not_of(' ', pos);
    if (b < end) {
      const size_t eq = cookie_header.find('=', b);
      if (eq < end && cookie_header.compare(b, eq - b, name) == 0 && eq - b == name.size()) {
        std::string value = cookie_header.substr(eq + 1, end - eq - 1);
        while (!value.empty() && value.back() == ' ') value.pop_back();
        return value;
      }
    }
    pos = end + 1;
  }
  return "";
}

SessionStore::SessionStore(const Clock* clock, int64_t ttl_ms, size_t max_sessions)
    : clock_(clock), ttl_ms_(ttl_ms), max_sessions_(max_sessions) {}

Result<std::pair<std::string, WebSession>> SessionStore::Create(const std::string& key) {
  FACEATT_ASSIGN_OR_RETURN(std::string id, RandomHex(kTokenBytes));
  FACEATT_ASSIGN_OR_RETURN(std::string csrf, RandomHex(kTokenBytes));
  const int64_t now = clock_->NowMillis();
  WebSession session{key, csrf, now + ttl_ms_};
  std::lock_guard lock(mu_);
  if (sessions_.size() >= max_sessions_) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second.session.expires_ms <= now) {
        order_.erase(it->second.order);
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  while (sessions_.size() >= max_sessions_ && !order_.empty()) {
    sessions_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(id);
  sessions_[id] = Entry{session, std::prev(order_.end())};
  return std::pair{id, session};
}

std::optional<WebSession> SessionStore::Find(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.session.expires_ms <= clock_->NowMillis()) {
    order_.erase(it->second.order);
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second.session;
}

void SessionStore::Erase(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  order_.erase(it->second.order);
  sessions_.erase(it);
}

size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

// ---- POST, GET and DELETE /session ----

namespace {

using json = nlohmann::json;

json SessionJson(const Context& ctx, const WebSession& s) {
  json body = {{"csrf_token", s.csrf_token}, {"expires_at", FormatUtc(s.expires_ms)}};
  const Role role = ctx.no_keys() ? Role::kAdmin : RoleOfKey(ctx, s.key);
  const std::string group = ctx.no_keys() ? "" : GroupOfKey(ctx, s.key);
  if (role == Role::kPublic && !group.empty()) {
    body["role"] = "group";
    body["group"] = group;
  } else {
    body["role"] = RoleName(role);
  }
  return body;
}

// Secure when the browser reached us over TLS: our own, or a proxy's that
// says so. Trusting the header from anyone is safe here: it can only make the
// client's own cookie stricter.
void SetSessionCookie(const Request& req, Response& res, const std::string& value,
                      int64_t max_age_seconds) {
  std::string cookie =
      std::string(kSessionCookie) + "=" + value +
      "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" + std::to_string(max_age_seconds);
  if (req.ssl || req.get_header_value("X-Forwarded-Proto") == "https") cookie += "; Secure";
  res.set_header("Set-Cookie", cookie);
  res.set_header("Cache-Control", "no-store");
}

std::string SessionId(const Request& req) {
  for (size_t i = 0, n = req.get_header_value_count("Cookie"); i < n; ++i)
    if (auto id = CookieValue(req.get_header_value("Cookie", i), kSessionCookie); !id.empty())
      return id;
  return "";
}

}  // namespace

void HandleSessionCreate(Context& ctx, const Request& req, Response& res) {
  auto fields = BodyFields(req);
  if (!fields.ok()) return SendError(req, res, fields.status());
  auto key = JsonString(*fields, "key");
  if (!key.ok()) return SendError(req, res, key.status());
  // With no keys configured every request is admin already (local mode).
  if (!ctx.no_keys() && RoleOfKey(ctx, *key) == Role::kPublic && GroupOfKey(ctx, *key).empty()) {
    res.set_header("WWW-Authenticate", "Bearer");
    return SendError(
        req, res,
        Status::Unauthenticated(key->empty() ? "an API key is required ({\"key\": ...})"
                                             : "the API key is not valid"));
  }
  auto made = ctx.sessions->Create(ctx.no_keys() ? "" : *key);
  if (!made.ok()) return SendError(req, res, made.status());
  const auto& [id, session] = *made;
  SetSessionCookie(req, res, id, int64_t{ctx.config.server.session_ttl_minutes} * 60);
  SendJson(res, 200, SessionJson(ctx, session));
}

void HandleSessionGet(Context& ctx, const Request& req, Response& res) {
  auto session = CookieSession(ctx, req);
  if (!session)
    return SendError(req, res, Status::Unauthenticated("not signed in (POST /session)"));
  res.set_header("Cache-Control", "no-store");
  SendJson(res, 200, SessionJson(ctx, *session));
}

void HandleSessionDelete(Context& ctx, const Request& req, Response& res) {
  if (CookieSession(ctx, req)) {
    if (Status st = CheckCsrf(ctx, req); !st.ok()) return SendError(req, res, st);
    ctx.sessions->Erase(SessionId(req));
  }
  SetSessionCookie(req, res, "", 0);
  res.status = 204;
}

}  // namespace faceatt::http
