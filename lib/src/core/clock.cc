#include "faceatt/clock.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace faceatt {

int64_t SystemClock::NowMillis() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {
int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
}  // namespace

std::string FormatUtc(int64_t unix_ms) {
  const time_t secs = static_cast<time_t>(FloorDiv(unix_ms, 1000));
  const int ms = static_cast<int>(unix_ms - static_cast<int64_t>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];  // room for any int the compiler cannot rule out
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string FormatLocal(int64_t unix_ms) {
  const time_t secs = static_cast<time_t>(FloorDiv(unix_ms, 1000));
  std::tm tm{};
  localtime_r(&secs, &tm);
  const long off = tm.tm_gmtoff;
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
                std::labs(off) / 3600, (std::labs(off) % 3600) / 60);
  return buf;
}

std::string LocalDate(int64_t unix_ms) { return FormatLocal(unix_ms).substr(0, 10); }

Result<int64_t> ParseTimestamp(const std::string& s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  int n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 &&
      std::sscanf(s.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
    return Status::InvalidArgument("bad timestamp '" + s + "' (want 2026-11-21T08:30:00Z)");
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return Status::InvalidArgument("bad timestamp '" + s + "'");
  size_t i = static_cast<size_t>(n);
  int ms = 0;
  if (i < s.size() && s[i] == '.') {
    int digits = 0;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i)
      if (digits++ < 3) ms = ms * 10 + (s[i] - '0');
    while (digits > 0 && digits < 3) ms *= 10, ++digits;
  }
  int64_t offset_s = 0;
  const std::string rest = s.substr(i);
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = std::atoi(rest.substr(1, 2).c_str()), om = std::atoi(rest.substr(4, 2).c_str());
    offset_s = (rest[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  } else {
    return Status::InvalidArgument("timestamp '" + s + "' needs a zone: Z or +hh:mm");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_s;
  // An offset can carry a time past the four-digit years FormatUtc writes
  // ("9999-12-31T23:59:59-23:59"): refused, so every accepted time formats and
  // parses back (found by fuzz/datetime_fuzz.cc).
  constexpr int64_t kFirstSecond = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr int64_t kLastSecond = 253402300799;   // 9999-12-31T23:59:59Z
  if (secs < kFirstSecond || secs > kLastSecond)
    return Status::InvalidArgument("timestamp '" + s + "' is outside the years 0000-9999 in UTC");
  return secs * 1000 + ms;
}

Result<int64_t> LocalDayStart(const std::string& date) {
  int y, m, d, n = 0;
  // Digits where the digits go: sscanf alone takes "2026-+1-05" and "2026- 1-05".
  bool shape = date.size() == 10 && date[4] == '-' && date[7] == '-';
  for (size_t i = 0; shape && i < date.size(); ++i)
    if (i != 4 && i != 7) shape = date[i] >= '0' && date[i] <= '9';
  if (!shape || std::sscanf(date.c_str(), "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
      m < 1 || m > 12 || d < 1 || d > 31)
    return Status::InvalidArgument("bad date '" + date + "' (want YYYY-MM-DD)");
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  tm.tm_isdst = -1;
  const time_t t = mktime(&tm);
  if (tm.tm_mday != d || tm.tm_mon != m - 1)
    return Status::InvalidArgument("bad date '" + date + "' (no such day)");
  return static_cast<int64_t>(t) * 1000;
}

Result<int> ParseTimeOfDay(const std::string& s) {
  const bool shape = s.size() == 5 && s[2] == ':' &&
                     std::isdigit(static_cast<unsigned char>(s[0])) &&
                     std::isdigit(static_cast<unsigned char>(s[1])) &&
                     std::isdigit(static_cast<unsigned char>(s[3])) &&
                     std::isdigit(static_cast<unsigned char>(s[4]));
  const int h = shape ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
  const int m = shape ? (s[3] - '0') * 10 + (s[4] - '0') : -1;
  if (!shape || h > 23 || m > 59)
    return Status::InvalidArgument("bad time of day '" + s + "' (want HH:MM, e.g. 04:00)");
  return h * 60 + m;
}

namespace {
constexpr const char* kWeekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
}  // namespace

Result<int> ParseWeekday(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 7; ++i)
    if (lower == kWeekdays[i]) return i;
  return Status::InvalidArgument("bad weekday '" + name + "' (want Mon, Tue, ... Sun)");
}

Result<int> WeekdayOf(const std::string& date) {
  FACEATT_ASSIGN_OR_RETURN(int64_t start, LocalDayStart(date));
  const time_t secs = static_cast<time_t>(FloorDiv(start, 1000));
  std::tm tm{};
  localtime_r(&secs, &tm);
  return (tm.tm_wday + 6) % 7;
}

Result<int64_t> ParseWallTime(const std::string& s) {
  auto with_offset = ParseTimestamp(s);
  if (with_offset.ok()) return with_offset;
  const Status bad = Status::InvalidArgument(
      "bad time '" + s + "' (want YYYY-MM-DDTHH:MM[:SS], local, or ISO 8601 with an offset)");
  if (s.size() != 16 && s.size() != 19) return bad;
  if (s[10] != 'T' && s[10] != ' ') return bad;
  if (s[13] != ':' || (s.size() == 19 && s[16] != ':')) return bad;
  for (size_t i = 11; i < s.size(); ++i)
    if (i != 13 && i != 16 && (s[i] < '0' || s[i] > '9')) return bad;
  auto day = LocalDayStart(s.substr(0, 10));
  if (!day.ok()) return day.status();
  const int hh = std::stoi(s.substr(11, 2)), mm = std::stoi(s.substr(14, 2));
  const int ss = s.size() == 19 ? std::stoi(s.substr(17, 2)) : 0;
  if (hh > 23 || mm > 59 || ss > 59) return bad;
  // mktime, not day start + hours: a DST change inside the day moves the wall clock.
  std::tm tm{};
  const time_t start = static_cast<time_t>(*day / 1000);
  localtime_r(&start, &tm);
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&tm)) * 1000;
}

Status SetTimeZone(const std::string& name) {
  if (name.empty()) return Status::Ok();
  std::error_code ec;
  const bool valid =
      name.find("..") == std::string::npos && name[0] != '/' &&
      (name == "UTC" || std::filesystem::is_regular_file("/usr/share/zoneinfo/" + name, ec));
  if (!valid)
    return Status::InvalidArgument("attendance.timezone = \"" + name +
                                   "\": not a time zone in /usr/share/zoneinfo (e.g. Asia/Seoul)");
  ::setenv("TZ", name.c_str(), 1);
  ::tzset();
  return Status::Ok();
}

}  // namespace faceatt
