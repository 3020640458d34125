#include "http/request_body.h"

#include <cmath>
#include <cstdlib>

namespace faceatt::http {

using json = nlohmann::json;

Result<std::string> DecodeBase64(std::string_view text) {
  if (text.substr(0, 5) == "data:") {
    const auto comma = text.find(',');
    if (comma == std::string_view::npos ||
        text.substr(0, comma).find(";base64") == std::string_view::npos)
      return Status::InvalidArgument(
          "image: a data URL must be base64 (data:image/...;base64,...)");
    text.remove_prefix(comma + 1);
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0, pad = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=') {
      ++pad;
      continue;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
      continue;
    else
      return Status::InvalidArgument("image: not valid base64");
    if (pad) return Status::InvalidArgument("image: not valid base64 (data after padding)");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (bits >= 6) return Status::InvalidArgument("image: not valid base64 (truncated)");
  if (out.empty()) return Status::InvalidArgument("image: empty");
  return out;
}

Result<json> ParseJsonObject(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("malformed JSON body");
  if (!j.is_object()) return Status::InvalidArgument("the JSON body must be an object");
  return j;
}

Result<std::string> JsonString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Status::InvalidArgument(std::string(key) + " must be a string");
  return it->get<std::string>();
}

Result<json> BodyFields(const httplib::Request& req) {
  if (req.is_multipart_form_data()) {
    json fields = json::object();
    for (const auto& [name, part] : req.files)
      if (name != "image" && part.filename.empty()) fields[name] = part.content;
    return fields;
  }
  if (req.get_header_value("Content-Type").find("application/x-www-form-urlencoded") !=
      std::string::npos) {
    httplib::Params params;
    httplib::detail::parse_query_text(req.body, params);
    json fields = json::object();
    for (const auto& [key, value] : params) {
      if (!IsUtf8(key) || !IsUtf8(value))
        return Status::InvalidArgument("a form field is not valid UTF-8 text");
      if (!fields.contains(key)) fields[key] = value;  // the first of repeated keys
    }
    return fields;
  }
  return ParseJsonObject(req.body);
}

Result<bool> JsonBool(const json& j, const char* key, bool def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    const std::string v = it->get<std::string>();
    if (v == "true" || v == "1") return true;
    if (v == "false" || v == "0") return false;
  }
  return Status::InvalidArgument(std::string(key) + " must be true or false");
}

Result<std::optional<double>> JsonNumber(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty()))
    return std::optional<double>();
  if (it->is_number()) return std::optional<double>(it->get<double>());
  if (it->is_string()) {
    const std::string v = it->get<std::string>();
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() + v.size() && std::isfinite(d)) return std::optional<double>(d);
  }
  return Status::InvalidArgument(std::string(key) + " must be a number");
}

std::string FormValue(const httplib::Request& req, const char* key) {
  return req.has_file(key) ? req.get_file_value(key).content : std::string();
}

bool IsJson(const httplib::Request& req) {
  return req.get_header_value("Content-Type").find("application/json") != std::string::npos;
}

Result<int> IntParam(const httplib::Request& req, const char* key, int def, int lo, int hi) {
  if (!req.has_param(key)) return def;
  const std::string v = req.get_param_value(key);
  try {
    size_t used = 0;
    const int n = std::stoi(v, &used);
    if (used == v.size() && n >= lo && n <= hi) return n;
  } catch (const std::exception&) {
  }
  return Status::InvalidArgument(std::string(key) + " must be an integer from " +
                                 std::to_string(lo) + " to " + std::to_string(hi));
}

bool IsUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p++;
    if (c < 0x80) continue;
    int more;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the 2nd byte
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (end - p < more || *p < lo || *p > hi) return false;
    for (++p, --more; more > 0; --more, ++p)
      if ((*p & 0xC0) != 0x80) return false;
  }
  return true;
}

Status CheckUtf8(const httplib::Request& req) {
  auto bad = [](const std::string& what) {
    return Status::InvalidArgument(what + " is not valid UTF-8 text");
  };
  if (!IsUtf8(req.path)) return bad("the path");
  for (const auto& [key, value] : req.params)
    if (!IsUtf8(key) || !IsUtf8(value)) return bad("a query parameter");
  for (const auto& [name, part] : req.files) {
    if (!IsUtf8(name)) return bad("a form field name");
    if (!IsUtf8(part.filename)) return bad("the filename of form field '" + name + "'");
    if (name != "image" && !IsUtf8(part.content)) return bad("form field '" + name + "'");
  }
  return Status::Ok();
}

}  // namespace faceatt::http
