// people.csv: RFC 4180 parsing, the header and every row's checks, and the
// folder-label rules applied to each label. Pass: no crash, no sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>

#include "faceatt/bulk_enroll.h"
#include "faceatt/export.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)faceatt::ParseCsv(text);
  auto people = faceatt::ParsePeopleCsv(text, "people.csv");
  if (people.ok())
    for (const auto& [label, who] : *people) (void)faceatt::ParseLabel(label);
  // Each line on its own as a folder name.
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    (void)faceatt::ParseLabel(text.substr(start, end - start));
    start = end + 1;
  }
  return 0;
}
