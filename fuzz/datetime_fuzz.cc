// Date and time parsing: ISO 8601 timestamps (device clocks, ?from=/?to=),
// calendar dates (export ranges), attendance types. Pass: no crash, no sanitizer
// report, and every timestamp that parses formats and parses back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "faceatt/attendance.h"
#include "faceatt/clock.h"
#include "faceatt/export.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  auto ts = faceatt::ParseTimestamp(s);
  if (ts.ok()) {
    auto again = faceatt::ParseTimestamp(faceatt::FormatUtc(*ts));
    if (!again.ok() || *again != *ts) std::abort();  // the round trip must hold
    (void)faceatt::FormatLocal(*ts);
    (void)faceatt::LocalDate(*ts);
  }
  (void)faceatt::LocalDayStart(s);
  (void)faceatt::NextDate(s);
  (void)faceatt::ParseAttendanceType(s);
  return 0;
}
