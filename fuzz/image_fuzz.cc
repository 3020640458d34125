// Image probing and decoding: every accepted format through DecodeImage (the
// probe picks the decoder), and each format's decoder on its own, as a hostile
// upload would reach them. Pass: no crash, no sanitizer report, no allocation
// past the pixel limit (libFuzzer's -rss_limit_mb / -malloc_limit_mb catch it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "faceatt/image.h"
#include "vision/codecs.h"

namespace {
// Small enough that a decode within the limit stays far below libFuzzer's
// 2 GB memory limit; the check is the same code whatever the number.
constexpr int64_t kFuzzMaxPixels = 4'000'000;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)faceatt::ProbeImage(bytes);
  (void)faceatt::DecodeImage(bytes, {20'000'000, kFuzzMaxPixels}, "fuzz");
  // The decoders check their own sizes too: call them past the probe.
  using namespace faceatt::codecs;
  for (auto decode : {DecodeJpeg, DecodePng, DecodeBmp, DecodeWebp, DecodeTiff})
    (void)decode(bytes, kFuzzMaxPixels, "fuzz");
  return 0;
}
