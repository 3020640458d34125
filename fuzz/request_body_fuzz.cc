// HTTP request parsing (lib/src/http/request_body.h, auth.h): base64 and data
// URLs, JSON bodies and their string members, the UTF-8 check over a request's
// path, parameters and multipart parts, and the Host header check. The input's
// first byte picks the parser; the rest is its input. Pass: no crash, no
// sanitizer report, and each answer is consistent (noted below).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/auth.h"
#include "http/request_body.h"

using namespace faceatt::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto bytes = DecodeBase64(text);
      if (bytes.ok() && bytes->empty()) std::abort();  // documented: empty is an error
      break;
    }
    case 1: {
      auto object = ParseJsonObject(text);
      if (object.ok()) {
        if (!object->is_object()) std::abort();
        for (const char* key : {"image", "type", "device_id", "ts_client", "name"}) {
          auto value = JsonString(*object, key);
          if (value.ok() && !IsUtf8(*value)) std::abort();  // JSON strings are UTF-8
        }
      }
      break;
    }
    case 2: {  // a request: path \0 param \0 part name \0 filename \0 content
      httplib::Request req;
      std::string fields[5];
      size_t at = 0;
      for (int i = 0; i < 5 && at <= text.size(); ++i) {
        const size_t end = std::min(text.find('\0', at), text.size());
        fields[i] = text.substr(at, end - at);
        at = end + 1;
      }
      req.path = fields[0];
      req.params.emplace("q", fields[1]);
      req.files.emplace(fields[2], httplib::MultipartFormData{fields[2], fields[4], fields[3], ""});
      const bool all_utf8 = IsUtf8(fields[0]) && IsUtf8(fields[1]) && IsUtf8(fields[2]) &&
                            IsUtf8(fields[3]) && (fields[2] == "image" || IsUtf8(fields[4]));
      if (CheckUtf8(req).ok() != all_utf8) std::abort();
      break;
    }
    case 3:
      (void)LoopbackHost(text);
      break;
  }
  return 0;
}
