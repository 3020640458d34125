// Who may do what: API keys and their roles, and the checks every request
// passes before a route sees it (CORS origins, the Host header when no key is
// configured, the upload size limit). Roles and their endpoints: server.h and
// docs/serve.md; the role of each route is its row in routes.cc.
//
// Thread safety: stateless functions over a Context read-only after Start().
#pragma once

#include <httplib.h>

#include <optional>
#include <string>

#include "faceatt/status.h"
#include "http/context.h"
#include "http/sessions.h"

namespace faceatt::http {

enum class Role { kPublic, kReader, kDevice, kAdmin };

// Reason of the 403 a cookie-authenticated request without the session's
// X-CSRF-Token gets.
inline constexpr const char* kCsrfFailed = "csrf_failed";

// The role of the key a request presents (X-API-Key, else Authorization:
// Bearer, else the key its session cookie was made from); kPublic when none
// or unknown. Keys are compared in constant time.
// A request without a key from server.trusted_networks is kDevice.
Role RoleOf(const Context& ctx, const Request& req);
// The role of `key` itself (kPublic when it is no configured key).
Role RoleOfKey(const Context& ctx, const std::string& key);
// The group of `key` in server.group_keys; "" when it is no group key.
std::string GroupOfKey(const Context& ctx, const std::string& key);
// "public", "reader", "device", "admin".
const char* RoleName(Role role);

// The live session of the request's faceatt_session cookie, when it sends no
// key header (a key header wins over a cookie); nullopt otherwise.
std::optional<WebSession> CookieSession(const Context& ctx, const Request& req);

// A POST, PUT, PATCH or DELETE authenticated by a session cookie must carry
// that session's X-CSRF-Token: kPermissionDenied with reason kCsrfFailed
// otherwise. OK for any other request.
Status CheckCsrf(const Context& ctx, const Request& req);

// Who a correction names in the audit trail: "key:<role>:<first 8 hex of the
// key's SHA-256>" (never the key), or "local" when no keys are configured.
std::string ActorOf(const Context& ctx, const Request& req);

// OK when the request may use an endpoint of role `needed` (admin may use all;
// with no keys configured everyone may). Otherwise kUnauthenticated (no or an
// unknown key; sets WWW-Authenticate on `res`) or kPermissionDenied (also
// CheckCsrf's refusal on a non-public endpoint).
Status Authorize(const Context& ctx, const Request& req, Response& res, Role needed);

// The group of the group key (server.group_keys) a request presents; "" when
// it presents none. Such a key has the reader and device roles, but only on
// the routes that scope to a group (routes.cc) and only for its group.
std::string KeyGroup(const Context& ctx, const Request& req);

// The group a request works within: a group key's own group (asking for
// another is kPermissionDenied), else `requested` ("" = everyone).
Result<std::string> ScopedGroup(const Context& ctx, const Request& req,
                                const std::string& requested);

// Runs before routing: adds CORS headers for allowed origins, answers
// preflights, refuses bodies announced over server.max_upload_bytes, other
// origins (the server's own, the Host the request names, is always allowed:
// its pages), and (with no keys) a Host that is not loopback. Handled when it
// wrote the answer.
httplib::Server::HandlerResponse PreRoute(const Context& ctx, const Request& req, Response& res);

// "10.0.0.0/8", "192.168.1.7" (a /32), "fd00::/8"; kInvalidArgument naming
// the text otherwise.
Result<Network> ParseNetwork(const std::string& cidr);

// `address` (a request's remote address; IPv4-mapped IPv6 counts as IPv4)
// lies in `net`.
bool InNetwork(const Network& net, const std::string& address);

// The Host header names this machine's loopback ("localhost:8000", "[::1]").
bool LoopbackHost(const std::string& host_header);

}  // namespace faceatt::http
