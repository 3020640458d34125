#include "http/request_body.h"

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

}  // namespace faceatt::http
