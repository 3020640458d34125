// Test support for HTTP clients of the server: base64 of a photo, multipart
// forms of fields and photos from ../shared/faces, and answers as JSON.
#pragma once

#include <httplib.h>

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace faceatt::testing {

// Standard base64 (with padding) of `bytes`.
std::string Base64(const std::string& bytes);

// A multipart form of text fields and `images` (paths under FacesDir()), each
// sent as a part named `image`.
httplib::MultipartFormDataItems Form(
    std::initializer_list<std::pair<std::string, std::string>> fields,
    std::vector<std::string> images = {});

// The answer's body as JSON; null when there was no answer, discarded when
// it is not JSON.
nlohmann::json Body(const httplib::Result& r);

}  // namespace faceatt::testing
