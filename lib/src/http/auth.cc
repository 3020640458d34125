#include "http/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

#include "faceatt/image.h"
#include "http/errors.h"

namespace faceatt::http {
namespace {

bool AllDigits(std::string_view s, size_t max_len) {
  return !s.empty() && s.size() <= max_len &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Constant-time comparison of a presented key with a configured one.
// Both are hashed first, so neither the time nor an early length check says
// how long a configured key is.
bool SameKey(const std::string& a, const std::string& b) {
  unsigned char ha[SHA256_DIGEST_LENGTH], hb[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), ha);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), hb);
  return CRYPTO_memcmp(ha, hb, sizeof ha) == 0;
}

bool OriginAllowed(const Context& ctx, const std::string& origin) {
  const auto& allowed = ctx.config.server.cors_origins;
  return !origin.empty() && (std::find(allowed.begin(), allowed.end(), origin) != allowed.end() ||
                             std::find(allowed.begin(), allowed.end(), "*") != allowed.end());
}

// A body announced larger than server.max_upload_bytes, refused before it is
// read (httplib would otherwise read and discard it all, or wait for the read
// timeout).
// A Content-Length that is not one decimal number, or two that disagree, is
// refused: httplib reads "abc" as 0 and uses the first of two, so the body
// would be parsed as the next request (request smuggling behind a proxy).
Status CheckLength(const Context& ctx, const Request& req) {
  if (!req.has_header("Content-Length")) return Status::Ok();
  const std::string length = req.get_header_value("Content-Length");
  const size_t count = req.get_header_value_count("Content-Length");
  for (size_t i = 0; i < count; ++i) {
    const std::string v = req.get_header_value("Content-Length", i);
    if (!AllDigits(v, 20) || v != length)
      return Status::InvalidArgument("the Content-Length header is not one decimal number");
  }
  const unsigned long long n = std::strtoull(length.c_str(), nullptr, 10);
  const int64_t limit = ctx.config.server.max_upload_bytes;
  if (n <= static_cast<unsigned long long>(limit)) return Status::Ok();
  return Status::ResourceExhausted("the request body is " + length +
                                   " bytes, more than server.max_upload_bytes (" +
                                   std::to_string(limit) + ")");
}

// A literal IPv4 address in 127.0.0.0/8 ("127.0.0.1"), nothing else: not
// "127.attacker.example", not "127.0.0.1.nip.io".
bool LoopbackIpv4(std::string_view h) {
  int parts = 0;
  while (true) {
    const size_t dot = h.find('.');
    const std::string_view part = h.substr(0, dot);
    if (!AllDigits(part, 3) || std::stoi(std::string(part)) > 255) return false;
    if (parts == 0 && part != "127") return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    h.remove_prefix(dot + 1);
  }
  return parts == 4;
}

}  // namespace

bool LoopbackHost(const std::string& host_header) {
  std::string h = host_header;
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view host = h;
  if (const size_t colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    if (!AllDigits(host.substr(colon + 1), 5)) return false;
    host = host.substr(0, colon);
  }
  return host == "localhost" || host == "[::1]" || LoopbackIpv4(host);
}

namespace {
// X-API-Key, else Authorization: Bearer ("" when neither).
std::string PresentedKey(const Request& req) {
  std::string key = req.get_header_value("X-API-Key");
  const std::string auth = req.get_header_value("Authorization");
  if (key.empty() && auth.size() > 7 && strncasecmp(auth.c_str(), "Bearer ", 7) == 0)
    key = auth.substr(7);
  return key;
}
}  // namespace

std::string ActorOf(const Context& ctx, const Request& req) {
  if (ctx.no_keys()) return "local";
  static const char* const kRoleNames[] = {"public", "reader", "device", "admin"};
  return std::string("key:") + kRoleNames[static_cast<int>(RoleOf(ctx, req))] + ":" +
         Sha256Hex(PresentedKey(req)).substr(0, 8);
}

Role RoleOf(const Context& ctx, const Request& req) {
  const std::string key = PresentedKey(req);
  if (key.empty()) return Role::kPublic;
  const auto& server = ctx.config.server;
  Role role = Role::kPublic;  // every key is compared, whatever matched first
  for (const auto& k : server.reader_keys)
    if (SameKey(key, k) && role < Role::kReader) role = Role::kReader;
  for (const auto& k : server.device_keys)
    if (SameKey(key, k) && role < Role::kDevice) role = Role::kDevice;
  for (const auto& k : server.admin_keys)
    if (SameKey(key, k)) role = Role::kAdmin;
  return role;
}

Status Authorize(const Context& ctx, const Request& req, Response& res, Role needed) {
  if (needed == Role::kPublic || ctx.no_keys()) return Status::Ok();
  const Role have = RoleOf(ctx, req);
  if (have == Role::kAdmin || have == needed) return Status::Ok();
  if (have == Role::kPublic) {
    const bool presented = !req.get_header_value("X-API-Key").empty() ||
                           !req.get_header_value("Authorization").empty();
    res.set_header("WWW-Authenticate", "Bearer");
    return Status::Unauthenticated(
        presented ? "the API key is not valid"
                  : "an API key is required (Authorization: Bearer KEY or X-API-Key)");
  }
  return Status::PermissionDenied("this API key's role may not use this endpoint");
}

httplib::Server::HandlerResponse PreRoute(const Context& ctx, const Request& req, Response& res) {
  using httplib::Server;
  const std::string origin = req.get_header_value("Origin");
  const bool allowed = OriginAllowed(ctx, origin);
  if (allowed) {
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    res.set_header("Access-Control-Allow-Headers", "Authorization, X-API-Key, Content-Type");
    res.set_header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
    res.set_header("Access-Control-Max-Age", "600");
  }
  if (Status st = CheckLength(ctx, req); !st.ok()) {
    res.set_header("Connection", "close");
    SendError(req, res, st);
    return Server::HandlerResponse::Handled;
  }
  // A web page from another origin may not use the API, not only through a
  // preflight: a form post needs none, and with no keys nothing else stops it.
  // (An <img> of /stream.mjpeg sends no Origin and still works.)
  if (!origin.empty() && !allowed) {
    SendError(req, res, Status::PermissionDenied("origin not allowed (server.cors_origins)"));
    return Server::HandlerResponse::Handled;
  }
  // Without keys the loopback address is the only guard: refuse a request whose
  // Host names another machine (a DNS-rebinding page reaching 127.0.0.1).
  if (ctx.no_keys() && !LoopbackHost(req.get_header_value("Host"))) {
    SendError(
        req, res,
        Status::PermissionDenied("with no API keys configured only localhost may be used as Host"));
    return Server::HandlerResponse::Handled;
  }
  if (req.method == "OPTIONS") {  // preflights: only from a listed origin
    if (allowed)
      res.status = 204;
    else
      SendError(req, res, Status::PermissionDenied("origin not allowed (server.cors_origins)"));
    return Server::HandlerResponse::Handled;
  }
  return Server::HandlerResponse::Unhandled;
}

}  // namespace faceatt::http
