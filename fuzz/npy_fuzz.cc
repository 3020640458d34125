// .npy parsing (faceatt import): any bytes. Pass: no crash, no sanitizer
// report; a parsed array holds rows x cols finite values.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "migrate/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto a = faceatt::migrate::ParseNpy(std::string_view(reinterpret_cast<const char*>(data), size),
                                      "fuzz.npy");
  if (!a.ok()) return 0;
  if (a->values.size() != static_cast<size_t>(a->rows) * a->cols) std::abort();
  for (double v : a->values)
    if (!std::isfinite(v)) std::abort();
  return 0;
}
