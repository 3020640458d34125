// The web app's files (web/ in the repository), compiled into the binary by
// cmake/EmbedWeb.cmake: name relative to web/ ("kiosk.html", "img/x.svg"),
// bytes and their SHA-256 (hex). The table ends with a row of nulls.
#pragma once

#include <cstddef>

namespace faceatt::http {

struct WebAsset {
  const char* name;
  const unsigned char* data;
  size_t size;
  const char* sha256;
};

extern const WebAsset kWebAssets[];
extern const size_t kWebAssetCount;

}  // namespace faceatt::http
