#include "support/http_client.h"

#include <openssl/evp.h>

#include "support/testing.h"

namespace faceatt::testing {

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

httplib::MultipartFormDataItems Form(
    std::initializer_list<std::pair<std::string, std::string>> fields,
    std::vector<std::string> images) {
  httplib::MultipartFormDataItems items;
  for (const auto& [k, v] : fields) items.push_back({k, v, "", ""});
  for (const auto& img : images) items.push_back({"image", ReadFile(Face(img)), img, "image/jpeg"});
  return items;
}

nlohmann::json Body(const httplib::Result& r) {
  if (!r) return nlohmann::json();
  return nlohmann::json::parse(r->body, nullptr, false);
}

}  // namespace faceatt::testing
