// Reading request bodies and parameters: base64 and data URLs, JSON objects,
// form and query values. Plain functions (no server state), so tests and fuzz
// targets call them directly. Every malformed input is kInvalidArgument (400)
// with a message naming what is wrong; nothing throws.
//
// Thread safety: stateless functions.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "faceatt/status.h"

namespace faceatt::http {

// Strict base64 (standard or URL alphabet, padding optional, whitespace ignored),
// also accepting a data URL ("data:image/jpeg;base64,..."). Empty output is an error.
Result<std::string> DecodeBase64(std::string_view text);

// The body as a JSON object; malformed JSON or another JSON type is an error.
Result<nlohmann::json> ParseJsonObject(const std::string& body);

// A string member ("" when absent or null); an error when it is not a string.
Result<std::string> JsonString(const nlohmann::json& object, const char* key);

// The fields of a request body as one JSON object, whatever form the old
// clients send: a JSON object, an application/x-www-form-urlencoded body, or
// the text fields of a multipart form (parts without a filename, and not
// `image`), each form value a JSON string. JsonBool and JsonNumber read such
// strings too ("true", "0.35").
Result<nlohmann::json> BodyFields(const httplib::Request& req);

// A boolean member: absent/null -> `def`; true/false, or "true"/"false"/"1"/"0".
Result<bool> JsonBool(const nlohmann::json& object, const char* key, bool def);

// A number member: absent/null/"" -> nullopt; a JSON number or a decimal string.
Result<std::optional<double>> JsonNumber(const nlohmann::json& object, const char* key);

// A multipart form field's content ("" when absent).
std::string FormValue(const httplib::Request& req, const char* key);

// The request says its body is JSON (Content-Type application/json).
bool IsJson(const httplib::Request& req);

// `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates).
bool IsUtf8(std::string_view text);

// Every text of a request is UTF-8: the decoded path, query parameters, and
// multipart field names, filenames and values (all but the binary `image`
// parts). kInvalidArgument naming the first that is not, so nothing written
// from the request can break a JSON reader later.
Status CheckUtf8(const httplib::Request& req);

// Query parameter `key` as an integer in [lo, hi]; `def` when absent.
Result<int> IntParam(const httplib::Request& req, const char* key, int def, int lo, int hi);

}  // namespace faceatt::http
