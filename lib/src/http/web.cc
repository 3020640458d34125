// The web app's pages and assets: GET / (to /admin), /kiosk, /admin and
// /web/<file>, from the files compiled in (web_assets.h) or, with
// server.web_dir set, from that folder read on every request (development).
// Every answer carries the Content-Security-Policy and the other browser
// hardening headers; ETags are the content's SHA-256, so a browser revalidates
// (Cache-Control: no-cache) and gets 304 while the file is unchanged.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "faceatt/image.h"
#include "http/errors.h"
#include "http/routes.h"
#include "http/web_assets.h"

namespace faceatt::http {
namespace {

// Only the server's own scripts, styles and connections; images and media
// also from data:/blob: URLs (thumbnails, the webcam's frames); no framing.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'";

// Hex digits of the SHA-256 in an ETag: 64 bits tell versions of one file apart.
constexpr size_t kEtagHexDigits = 16;

constexpr std::pair<std::string_view, const char*> kMimeTypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".webp", "image/webp"},
    {".wav", "audio/wav"},
    {".mp3", "audio/mpeg"},
    {".ogg", "audio/ogg"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

const char* MimeType(std::string_view name) {
  for (const auto& [ext, type] : kMimeTypes)
    if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) return type;
  return "application/octet-stream";
}

// "app.css", "img/logo.svg": segments of letters, digits, '-', '_' and '.',
// none empty or starting with '.' (so no "..", no hidden file, no absolute path).
bool SafeAssetName(std::string_view name) {
  if (name.empty()) return false;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t slash = std::min(name.find('/', start), name.size());
    const std::string_view seg = name.substr(start, slash - start);
    if (seg.empty() || seg[0] == '.') return false;
    for (unsigned char c : seg)
      if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
    start = slash + 1;
  }
  return true;
}

struct Asset {
  std::string bytes;
  std::string sha256;
};

Result<Asset> FindAsset(const Context& ctx, const std::string& name) {
  const Status missing = Status::NotFound("no web asset '" + name + "'");
  if (!SafeAssetName(name)) return missing;
  const std::string& dir = ctx.config.server.web_dir;
  if (dir.empty()) {
    for (size_t i = 0; i < kWebAssetCount; ++i)
      if (name == kWebAssets[i].name)
        return Asset{
            std::string(reinterpret_cast<const char*>(kWebAssets[i].data), kWebAssets[i].size),
            kWebAssets[i].sha256};
    return missing;
  }
  const std::filesystem::path path = std::filesystem::path(dir) / name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return missing;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) return Status::IoError("cannot read " + path.string());
  Asset asset{bytes.str(), ""};
  asset.sha256 = Sha256Hex(asset.bytes);
  return asset;
}

// If-None-Match names `etag` (or is "*").
bool Matches(const std::string& if_none_match, const std::string& etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  std::stringstream list(if_none_match);
  for (std::string tag; std::getline(list, tag, ',');) {
    const size_t b = tag.find_first_not_of(" \t"), e = tag.find_last_not_of(" \t");
    if (b == std::string::npos) continue;
    tag = tag.substr(b, e - b + 1);
    if (tag.rfind("W/", 0) == 0) tag = tag.substr(2);
    if (tag == etag) return true;
  }
  return false;
}

void ServeAsset(Context& ctx, const Request& req, Response& res, const std::string& name) {
  SetPageHeaders(res);
  auto asset = FindAsset(ctx, name);
  if (!asset.ok()) return SendError(req, res, asset.status());
  std::string etag = "\"";
  etag.append(asset->sha256, 0, kEtagHexDigits).push_back('"');
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", "no-cache");
  if (Matches(req.get_header_value("If-None-Match"), etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(std::move(asset->bytes), MimeType(name));
}

}  // namespace

void SetPageHeaders(Response& res) {
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
}

void HandleRoot(Context&, const Request&, Response& res) {
  SetPageHeaders(res);
  res.set_redirect("/admin", 302);
}

void HandleKioskPage(Context& ctx, const Request& req, Response& res) {
  ServeAsset(ctx, req, res, "kiosk.html");
}

void HandleAdminPage(Context& ctx, const Request& req, Response& res) {
  ServeAsset(ctx, req, res, "admin.html");
}

void HandleWebAsset(Context& ctx, const Request& req, Response& res) {
  ServeAsset(ctx, req, res, req.matches[1].str());
}

Status CheckWebDir(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Status::InvalidArgument("server.web_dir: '" + dir + "' is not a folder");
  return Status::Ok();
}

}  // namespace faceatt::http
