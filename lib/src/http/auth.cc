#include "http/auth.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
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

// The 4 or 16 bytes of a textual address; false when it is neither. An
// IPv4-mapped IPv6 address (::ffff:10.1.2.3, how a dual-stack socket reports
// an IPv4 client) is its IPv4 address.
bool ParseAddress(const std::string& text, bool& v6, unsigned char out[16]) {
  if (inet_pton(AF_INET, text.c_str(), out) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out) != 1) return false;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  v6 = std::memcmp(out, kMapped, 12) != 0;
  if (!v6) std::memmove(out, out + 12, 4);
  return true;
}

// A keyless request from server.trusted_networks.
bool FromTrustedNetwork(const Context& ctx, const Request& req) {
  for (const Network& net : ctx.trusted_networks)
    if (InNetwork(net, req.remote_addr)) return true;
  return false;
}

// The server's own pages: an Origin ("http://host:port", "https://host")
// naming the Host the request was sent to. Browsers send Origin on a
// same-origin POST too, and those requests need no server.cors_origins entry.
bool SameOrigin(const Request& req, const std::string& origin) {
  const size_t scheme_end = origin.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = origin.substr(0, scheme_end);
  const std::string host = req.get_header_value("Host");
  return (scheme == "http" || scheme == "https") && !host.empty() &&
         strcasecmp(origin.c_str() + scheme_end + 3, host.c_str()) == 0;
}

}  // namespace

Result<Network> ParseNetwork(const std::string& cidr) {
  auto bad = [&] {
    return Status::InvalidArgument("server.trusted_networks: '" + cidr +
                                   "' is not a network (e.g. 10.0.0.0/8, 192.168.1.7, fd00::/8)");
  };
  const size_t slash = cidr.find('/');
  Network net;
  if (!ParseAddress(cidr.substr(0, slash), net.v6, net.addr)) return bad();
  const int max_bits = net.v6 ? 128 : 32;
  net.prefix_bits = max_bits;
  if (slash != std::string::npos) {
    const std::string bits = cidr.substr(slash + 1);
    if (!AllDigits(bits, 3) || std::stoi(bits) > max_bits) return bad();
    net.prefix_bits = std::stoi(bits);
  }
  return net;
}

bool InNetwork(const Network& net, const std::string& address) {
  bool v6 = false;
  unsigned char a[16] = {};
  if (!ParseAddress(address, v6, a) || v6 != net.v6) return false;
  const int full = net.prefix_bits / 8, rest = net.prefix_bits % 8;
  if (std::memcmp(a, net.addr, full) != 0) return false;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (net.addr[full] & mask);
}

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
bool HasKeyHeader(const Request& req) {
  return !req.get_header_value("X-API-Key").empty() ||
         !req.get_header_value("Authorization").empty();
}

// X-API-Key, else Authorization: Bearer, else the key of a session cookie
// ("" when none).
std::string PresentedKey(const Context& ctx, const Request& req) {
  std::string key = req.get_header_value("X-API-Key");
  const std::string auth = req.get_header_value("Authorization");
  if (key.empty() && auth.size() > 7 && strncasecmp(auth.c_str(), "Bearer ", 7) == 0)
    key = auth.substr(7);
  if (key.empty() && !HasKeyHeader(req))
    if (auto session = CookieSession(ctx, req)) key = session->key;
  return key;
}

bool ChangesState(const Request& req) {
  return req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
         req.method == "DELETE";
}
}  // namespace

std::optional<WebSession> CookieSession(const Context& ctx, const Request& req) {
  if (!ctx.sessions || HasKeyHeader(req)) return std::nullopt;
  for (size_t i = 0, n = req.get_header_value_count("Cookie"); i < n; ++i) {
    const std::string id = CookieValue(req.get_header_value("Cookie", i), kSessionCookie);
    if (!id.empty()) return ctx.sessions->Find(id);
  }
  return std::nullopt;
}

Status CheckCsrf(const Context& ctx, const Request& req) {
  if (!ChangesState(req)) return Status::Ok();
  auto session = CookieSession(ctx, req);
  if (!session) return Status::Ok();
  const std::string token = req.get_header_value("X-CSRF-Token");
  if (token.size() == session->csrf_token.size() &&
      CRYPTO_memcmp(token.data(), session->csrf_token.data(), token.size()) == 0)
    return Status::Ok();
  return Status::PermissionDenied(
             "a request signed in by cookie that changes something needs the session's "
             "X-CSRF-Token header (POST /session or GET /session gives it)")
      .WithReason(kCsrfFailed);
}

Role RoleOfKey(const Context& ctx, const std::string& key) {
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

std::string GroupOfKey(const Context& ctx, const std::string& key) {
  std::string group;  // every key is compared, whatever matched first
  for (const auto& entry : ctx.config.server.group_keys) {
    auto [name, k] = SplitPair(entry);
    if (SameKey(key, k) && group.empty()) group = name;
  }
  return group;
}

const char* RoleName(Role role) {
  static const char* const kRoleNames[] = {"public", "reader", "device", "admin"};
  return kRoleNames[static_cast<int>(role)];
}

std::string ActorOf(const Context& ctx, const Request& req) {
  if (ctx.no_keys()) return "local";
  return std::string("key:") + RoleName(RoleOf(ctx, req)) + ":" +
         Sha256Hex(PresentedKey(ctx, req)).substr(0, 8);
}

Role RoleOf(const Context& ctx, const Request& req) {
  const std::string key = PresentedKey(ctx, req);
  if (key.empty()) return FromTrustedNetwork(ctx, req) ? Role::kDevice : Role::kPublic;
  return RoleOfKey(ctx, key);
}

std::string KeyGroup(const Context& ctx, const Request& req) {
  const std::string key = PresentedKey(ctx, req);
  return key.empty() ? "" : GroupOfKey(ctx, key);
}

Result<std::string> ScopedGroup(const Context& ctx, const Request& req,
                                const std::string& requested) {
  const std::string own = KeyGroup(ctx, req);
  if (own.empty()) return requested;
  if (!requested.empty() && requested != own)
    return Status::PermissionDenied("this API key is limited to group '" + own + "'");
  return own;
}

namespace {
Status AuthorizeRole(const Context& ctx, const Request& req, Response& res, Role needed) {
  const Role have = RoleOf(ctx, req);
  if (have == Role::kAdmin || have == needed) return Status::Ok();
  // A group key: reader and device roles (routes.cc limits it to the group routes).
  if (have == Role::kPublic && !KeyGroup(ctx, req).empty()) {
    if (needed == Role::kReader || needed == Role::kDevice) return Status::Ok();
    return Status::PermissionDenied("this API key's role may not use this endpoint");
  }
  const bool presented = HasKeyHeader(req) || CookieSession(ctx, req).has_value();
  if (have == Role::kPublic || !presented) {  // no key, even from a trusted network
    res.set_header("WWW-Authenticate", "Bearer");
    return Status::Unauthenticated(
        presented ? "the API key is not valid"
        : have == Role::kDevice
            ? "an API key is required: a trusted network (server.trusted_networks) "
              "gets the device role only"
            : "an API key is required (Authorization: Bearer KEY or X-API-Key)");
  }
  return Status::PermissionDenied("this API key's role may not use this endpoint");
}
}  // namespace

Status Authorize(const Context& ctx, const Request& req, Response& res, Role needed) {
  if (needed == Role::kPublic || ctx.no_keys()) return Status::Ok();
  FACEATT_RETURN_IF_ERROR(AuthorizeRole(ctx, req, res, needed));
  return CheckCsrf(ctx, req);
}

httplib::Server::HandlerResponse PreRoute(const Context& ctx, const Request& req, Response& res) {
  using httplib::Server;
  const std::string origin = req.get_header_value("Origin");
  const bool allowed = OriginAllowed(ctx, origin);
  if (allowed) {
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    res.set_header("Access-Control-Allow-Headers", "Authorization, X-API-Key, Content-Type");
    res.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
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
  if (!origin.empty() && !allowed && !SameOrigin(req, origin)) {
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
