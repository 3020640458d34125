#include "faceatt/config.h"

#include "faceatt/clock.h"
#include "faceatt/image.h"

#include <toml++/toml.h>
#include <unistd.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

extern char** environ;

namespace faceatt {
namespace {

enum class Kind { kInt, kInt64, kDouble, kBool, kString, kStringList };

struct Field {
  std::string key;  // "section.name"
  Kind kind;
  std::function<void*(Config&)> ref;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // allowed strings; empty = any
};

#define FACEATT_FIELD(section, name, kind, ...)                                                   \
  Field {                                                                                         \
#section "." #name, Kind::kind, [](Config & c) -> void* { return &c.section.name; },          \
                                                                                      __VA_ARGS__ \
  }

constexpr double kInf = std::numeric_limits<double>::infinity();

const std::vector<Field>& Fields() {
  static const std::vector<Field> fields = {
      FACEATT_FIELD(paths, data_dir, kString),
      FACEATT_FIELD(paths, models_dir, kString),
      FACEATT_FIELD(paths, log_dir, kString),
      FACEATT_FIELD(paths, known_faces_dir, kString),
      FACEATT_FIELD(models, recognizer, kString),
      FACEATT_FIELD(models, architecture, kString, -kInf, kInf, {"auto", "resnet", "densenet"}),
      FACEATT_FIELD(models, engine, kString, -kInf, kInf, {"auto", "onednn", "opencv", "dlib"}),
      FACEATT_FIELD(models, landmarks, kString),
      FACEATT_FIELD(models, detector, kString, -kInf, kInf, {"hog", "mmod"}),
      FACEATT_FIELD(models, mmod_model, kString),
      FACEATT_FIELD(image, max_bytes, kInt64, 1024, 2e9),
      FACEATT_FIELD(image, max_pixels, kInt64, 1e4, 1e9),
      FACEATT_FIELD(image, detect_max_side, kInt, 160, 8192),
      FACEATT_FIELD(image, upsample_below, kInt, 0, 4096),
      FACEATT_FIELD(image, small_face_retry, kBool),
      FACEATT_FIELD(quality, min_face_px, kInt, 0, 4096),
      FACEATT_FIELD(quality, min_brightness, kDouble, 0, 255),
      FACEATT_FIELD(quality, max_brightness, kDouble, 0, 255),
      FACEATT_FIELD(quality, min_sharpness, kDouble, 0, 1e6),
      FACEATT_FIELD(recognition, tolerance, kDouble, 0, 2),
      FACEATT_FIELD(recognition, margin, kDouble, -1, 2),
      FACEATT_FIELD(recognition, match, kString, -kInf, kInf, {"mean", "min"}),
      FACEATT_FIELD(recognition, flip, kBool),
      FACEATT_FIELD(recognition, top_k, kInt, 1, 100),
      FACEATT_FIELD(enroll, id_prefix, kString),
      FACEATT_FIELD(enroll, id_digits, kInt, 1, 12),
      FACEATT_FIELD(enroll, check_duplicates, kBool),
      FACEATT_FIELD(enroll, thumbnail_px, kInt, 32, 2048),
      FACEATT_FIELD(attendance, cooldown_seconds, kInt, 0, 86400),
      FACEATT_FIELD(attendance, allow_second_in, kBool),
      FACEATT_FIELD(attendance, timezone, kString),
      FACEATT_FIELD(attendance, day_starts_at, kString),
      FACEATT_FIELD(attendance, work_starts_at, kString),
      FACEATT_FIELD(attendance, working_days, kStringList),
      FACEATT_FIELD(attendance, device_groups, kStringList),
      FACEATT_FIELD(attendance, keep_photos, kBool),
      FACEATT_FIELD(attendance, photo_retention_days, kInt, 0, 36500),
      FACEATT_FIELD(server, host, kString),
      FACEATT_FIELD(server, port, kInt, 0, 65535),
      FACEATT_FIELD(server, workers, kInt, 1, 64),
      FACEATT_FIELD(server, queue_length, kInt, 0, 10000),
      FACEATT_FIELD(server, max_upload_bytes, kInt64, 1024, 2e9),
      FACEATT_FIELD(server, read_timeout_seconds, kInt, 1, 3600),
      FACEATT_FIELD(server, write_timeout_seconds, kInt, 1, 3600),
      FACEATT_FIELD(server, request_timeout_seconds, kInt, 1, 3600),
      FACEATT_FIELD(server, max_connections_per_address, kInt, 1, 10000),
      FACEATT_FIELD(server, cors_origins, kStringList),
      FACEATT_FIELD(server, admin_keys, kStringList),
      FACEATT_FIELD(server, device_keys, kStringList),
      FACEATT_FIELD(server, reader_keys, kStringList),
      FACEATT_FIELD(server, trusted_networks, kStringList),
      FACEATT_FIELD(server, compat, kString),
      FACEATT_FIELD(server, group_keys, kStringList),
      FACEATT_FIELD(server, web_dir, kString),
      FACEATT_FIELD(server, session_ttl_minutes, kInt, 1, 525600),
      FACEATT_FIELD(camera, source, kString),
      FACEATT_FIELD(camera, fps, kInt, 1, 60),
      FACEATT_FIELD(camera, jpeg_quality, kInt, 10, 100),
      FACEATT_FIELD(camera, gate_identify, kBool),
      FACEATT_FIELD(camera, guide_min_face, kDouble, 0, 1),
      FACEATT_FIELD(camera, device_id, kString),
      FACEATT_FIELD(webhook, urls, kStringList),
      FACEATT_FIELD(webhook, bearer_token, kString),
      FACEATT_FIELD(webhook, secret, kString),
      FACEATT_FIELD(webhook, cooldown_seconds, kInt, 0, 86400),
      FACEATT_FIELD(webhook, max_attempts, kInt, 1, 1000),
      FACEATT_FIELD(webhook, timeout_seconds, kInt, 1, 300),
      FACEATT_FIELD(webhook, lease_seconds, kInt, 5, 86400),
      FACEATT_FIELD(logging, level, kString, -kInf, kInf,
                    {"trace", "debug", "info", "warn", "error", "off"}),
      FACEATT_FIELD(logging, file, kBool),
      FACEATT_FIELD(logging, max_file_mb, kInt, 1, 10000),
      FACEATT_FIELD(logging, max_files, kInt, 1, 1000),
      FACEATT_FIELD(store, url, kString),
  };
  return fields;
}
#undef FACEATT_FIELD

const Field* FindField(const std::string& key) {
  for (const Field& f : Fields())
    if (f.key == key) return &f;
  return nullptr;
}

std::string EnvName(const std::string& key) {
  std::string name = "FACEATT_";
  for (char c : key) name += c == '.' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

std::string Describe(const Field& f, const std::string& value, const std::string& source) {
  return f.key + " = " + value + " (from " + source + ")";
}

std::string FormatNumber(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Checks range/choices and stores a parsed value.
Status Store(Config& c, const Field& f, double num, const std::string& text,
             const std::vector<std::string>& list, bool flag, const std::string& source) {
  switch (f.kind) {
    case Kind::kInt:
    case Kind::kInt64:
    case Kind::kDouble: {
      if (!std::isfinite(num) || num < f.min || num > f.max)
        return Status::InvalidArgument(Describe(f, text, source) + ": must be between " +
                                       FormatNumber(f.min) + " and " + FormatNumber(f.max));
      if (f.kind != Kind::kDouble && num != std::floor(num))
        return Status::InvalidArgument(Describe(f, text, source) + ": must be a whole number");
      if (f.kind == Kind::kInt) *static_cast<int*>(f.ref(c)) = static_cast<int>(num);
      if (f.kind == Kind::kInt64) *static_cast<int64_t*>(f.ref(c)) = static_cast<int64_t>(num);
      if (f.kind == Kind::kDouble) *static_cast<double*>(f.ref(c)) = num;
      return Status::Ok();
    }
    case Kind::kBool:
      *static_cast<bool*>(f.ref(c)) = flag;
      return Status::Ok();
    case Kind::kString:
      if (!f.choices.empty() &&
          std::find(f.choices.begin(), f.choices.end(), text) == f.choices.end()) {
        std::string allowed;
        for (const auto& ch : f.choices) allowed += (allowed.empty() ? "" : ", ") + ch;
        return Status::InvalidArgument(Describe(f, "\"" + text + "\"", source) +
                                       ": must be one of " + allowed);
      }
      *static_cast<std::string*>(f.ref(c)) = text;
      return Status::Ok();
    case Kind::kStringList:
      *static_cast<std::vector<std::string>*>(f.ref(c)) = list;
      return Status::Ok();
  }
  return Status::Internal("unknown field kind");
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream is(text);
  while (std::getline(is, item, ',')) {
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

Status SetFromText(Config& c, const Field& f, const std::string& value, const std::string& source) {
  switch (f.kind) {
    case Kind::kInt:
    case Kind::kInt64:
    case Kind::kDouble: {
      char* end = nullptr;
      errno = 0;
      double num = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size() || errno == ERANGE)
        return Status::InvalidArgument(Describe(f, value, source) + ": not a number");
      return Store(c, f, num, value, {}, false, source);
    }
    case Kind::kBool: {
      if (value == "true" || value == "1" || value == "yes" || value == "on")
        return Store(c, f, 0, value, {}, true, source);
      if (value == "false" || value == "0" || value == "no" || value == "off")
        return Store(c, f, 0, value, {}, false, source);
      return Status::InvalidArgument(Describe(f, value, source) + ": must be true or false");
    }
    case Kind::kString:
      return Store(c, f, 0, value, {}, false, source);
    case Kind::kStringList:
      return Store(c, f, 0, value, SplitList(value), false, source);
  }
  return Status::Internal("unknown field kind");
}

Status SetFromToml(Config& c, const Field& f, const toml::node& node, const std::string& source) {
  std::ostringstream shown;
  node.visit([&](auto&& n) { shown << n; });
  const std::string text = shown.str();
  auto wrong = [&](const char* want) {
    return Status::InvalidArgument(Describe(f, text, source) + ": must be " + want);
  };
  switch (f.kind) {
    case Kind::kInt:
    case Kind::kInt64:
      if (!node.is_integer()) return wrong("a whole number");
      return Store(c, f, static_cast<double>(*node.value<int64_t>()), text, {}, false, source);
    case Kind::kDouble:
      if (!node.is_number()) return wrong("a number");
      return Store(c, f, *node.value<double>(), text, {}, false, source);
    case Kind::kBool:
      if (!node.is_boolean()) return wrong("true or false");
      return Store(c, f, 0, text, {}, *node.value<bool>(), source);
    case Kind::kString:
      if (!node.is_string()) return wrong("a string");
      return Store(c, f, 0, *node.value<std::string>(), {}, false, source);
    case Kind::kStringList: {
      if (!node.is_array()) return wrong("an array of strings");
      std::vector<std::string> list;
      for (const auto& item : *node.as_array()) {
        if (!item.is_string()) return wrong("an array of strings");
        list.push_back(*item.value<std::string>());
      }
      return Store(c, f, 0, text, list, false, source);
    }
  }
  return Status::Internal("unknown field kind");
}

}  // namespace

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

Result<Config> Config::Load(const std::string& path, bool required,
                            const std::map<std::string, std::string>& env) {
  Config config;
  std::error_code ec;
  if (!path.empty() && std::filesystem::exists(path, ec)) {
    toml::table table;
    try {
      table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      std::ostringstream os;
      os << path << ":" << e.source().begin.line << ": " << e.description();
      return Status::InvalidArgument("config " + os.str());
    }
    for (const auto& [section, node] : table) {
      const std::string sname(section.str());
      if (!node.is_table())
        return Status::InvalidArgument(path + ": '" + sname + "' must be a [section]");
      for (const auto& [key, value] : *node.as_table()) {
        const std::string full = sname + "." + std::string(key.str());
        const Field* f = FindField(full);
        if (!f) return Status::InvalidArgument(path + ": unknown key '" + full + "'");
        FACEATT_RETURN_IF_ERROR(SetFromToml(config, *f, value, path));
      }
    }
  } else if (required) {
    return Status::NotFound("config file " + path + " does not exist");
  }
  for (const Field& f : Fields()) {
    auto it = env.find(EnvName(f.key));
    if (it != env.end()) FACEATT_RETURN_IF_ERROR(SetFromText(config, f, it->second, it->first));
  }
  FACEATT_RETURN_IF_ERROR(config.Validate());
  return config;
}

namespace {
// Edit distance, to suggest the key variable a misspelled one meant.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}
// Typos a suggestion covers: a letter or two, a missing underscore.
constexpr size_t kMaxSuggestionDistance = 3;
}  // namespace

std::vector<std::string> EnvironmentWarnings(const std::map<std::string, std::string>& env) {
  static const char* kToolVariables[] = {
      "FACEATT_CONFIG",    "FACEATT_MODEL_MIRROR", "FACEATT_MODEL_URL", "FACEATT_MODELS_DIR",
      "FACEATT_BUILD_DIR", "FACEATT_NATIVE",       "FACEATT_SHARED_DIR"};
  static const char* kToolPrefixes[] = {"FACEATT_TEST_", "FACEATT_BENCH_"};
  std::vector<std::string> warnings;
  for (const auto& [name, value] : env) {
    if (name.rfind("FACEATT_", 0) != 0) continue;
    bool known = false;
    for (const Field& f : Fields()) known = known || EnvName(f.key) == name;
    for (const char* v : kToolVariables) known = known || name == v;
    for (const char* p : kToolPrefixes) known = known || name.rfind(p, 0) == 0;
    if (known) continue;
    std::string best;
    size_t best_distance = kMaxSuggestionDistance + 1;
    for (const Field& f : Fields()) {
      const size_t d = EditDistance(name, EnvName(f.key));
      if (d < best_distance) best_distance = d, best = EnvName(f.key);
    }
    warnings.push_back("environment variable " + name + " is not a faceatt setting; ignored" +
                       (best.empty() ? std::string() : " (did you mean " + best + "?)"));
  }
  return warnings;
}

Status Config::Set(const std::string& key, const std::string& value, const std::string& source) {
  const Field* f = FindField(key);
  if (!f) return Status::InvalidArgument("unknown config key '" + key + "'");
  return SetFromText(*this, *f, value, source);
}

Status Config::Validate() const {
  if (quality.min_brightness >= quality.max_brightness)
    return Status::InvalidArgument(
        "quality.min_brightness (" + FormatNumber(quality.min_brightness) +
        ") must be below quality.max_brightness (" + FormatNumber(quality.max_brightness) + ")");
  if (enroll.id_prefix.empty() || enroll.id_prefix.find_first_of("/\\ .") != std::string::npos)
    return Status::InvalidArgument("enroll.id_prefix = \"" + enroll.id_prefix +
                                   "\": must be non-empty, without spaces, dots or slashes");
  if (paths.data_dir.empty()) return Status::InvalidArgument("paths.data_dir must not be empty");
  if (!server.compat.empty() && server.compat != "ml")
    return Status::InvalidArgument("server.compat = \"" + server.compat +
                                   "\": must be \"\" or \"ml\"");
  for (const auto* key : {"day_starts_at", "work_starts_at"}) {
    const std::string& v = key[0] == 'd' ? attendance.day_starts_at : attendance.work_starts_at;
    auto minutes = ParseTimeOfDay(v);
    if (!minutes.ok())
      return minutes.status().WithPrefix(std::string("attendance.") + key + " = \"" + v + "\"");
  }
  for (const auto* list : {&attendance.device_groups, &server.group_keys})
    for (const auto& entry : *list) {
      auto [left, right] = SplitPair(entry);
      if (left.empty() || right.empty())
        return Status::InvalidArgument(std::string(list == &server.group_keys
                                                       ? "server.group_keys"
                                                       : "attendance.device_groups") +
                                       ": entries are \"LEFT=RIGHT\" (device=group, group=key)");
    }
  for (const auto& day : attendance.working_days) {
    auto weekday = ParseWeekday(day);
    if (!weekday.ok()) return weekday.status().WithPrefix("attendance.working_days");
  }
  return Status::Ok();
}

std::pair<std::string, std::string> SplitPair(const std::string& entry) {
  const size_t eq = entry.find('=');
  if (eq == std::string::npos) return {entry, ""};
  return {entry.substr(0, eq), entry.substr(eq + 1)};
}

std::string DeviceGroup(const Config& config, const std::string& device_id) {
  for (const auto& entry : config.attendance.device_groups) {
    auto [device, group] = SplitPair(entry);
    if (device == device_id) return group;
  }
  return "";
}

std::vector<std::string> Config::Keys() {
  std::vector<std::string> keys;
  for (const Field& f : Fields()) keys.push_back(f.key);
  return keys;
}

std::string Config::Get(const std::string& key) const {
  const Field* f = FindField(key);
  if (!f) return "";
  Config& self = const_cast<Config&>(*this);  // ref() only takes an address
  void* p = f->ref(self);
  switch (f->kind) {
    case Kind::kInt:
      return std::to_string(*static_cast<int*>(p));
    case Kind::kInt64:
      return std::to_string(*static_cast<int64_t*>(p));
    case Kind::kDouble:
      return FormatNumber(*static_cast<double*>(p));
    case Kind::kBool:
      return *static_cast<bool*>(p) ? "true" : "false";
    case Kind::kString:
      return *static_cast<std::string*>(p);
    case Kind::kStringList: {
      std::string out;
      for (const auto& s : *static_cast<std::vector<std::string>*>(p))
        out += (out.empty() ? "" : ",") + s;
      return out;
    }
  }
  return "";
}

Status UpdateConfigFile(const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& key_values) {
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    if (!in) return Status::IoError("cannot read " + path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  for (const auto& [full, value] : key_values) {
    if (!FindField(full)) return Status::InvalidArgument("unknown config key '" + full + "'");
    const std::string section = full.substr(0, full.find('.'));
    const std::string key = full.substr(full.find('.') + 1);
    std::string current;
    int section_end = -1;  // index after the last line of the key's section
    bool done = false;
    for (size_t i = 0; i < lines.size() && !done; ++i) {
      const std::string& l = lines[i];
      size_t b = l.find_first_not_of(" \t");
      if (b == std::string::npos) continue;
      if (l[b] == '[') {
        size_t e = l.find(']', b);
        current = e == std::string::npos ? "" : l.substr(b + 1, e - b - 1);
        if (current == section) section_end = static_cast<int>(i) + 1;
        continue;
      }
      if (current != section) continue;
      if (l[b] != '#') section_end = static_cast<int>(i) + 1;
      if (l.compare(b, key.size(), key) != 0) continue;
      size_t eq = l.find_first_not_of(" \t", b + key.size());
      if (eq == std::string::npos || l[eq] != '=') continue;
      size_t hash = l.find(" #", eq);
      std::string comment = hash == std::string::npos ? "" : "  " + l.substr(hash + 1);
      lines[i] = l.substr(0, eq) + "= " + value + comment;
      done = true;
    }
    if (done) continue;
    if (section_end < 0) {
      lines.push_back("");
      lines.push_back("[" + section + "]");
      lines.push_back(key + " = " + value);
    } else {
      lines.insert(lines.begin() + section_end, key + " = " + value);
    }
  }
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  // The file may hold API keys: it keeps its permissions.
  std::error_code ec;
  const auto perms = std::filesystem::status(path, ec).permissions();
  const int mode = ec ? 0600 : static_cast<int>(perms & std::filesystem::perms::mask);
  return WriteFileAtomic(path, text, mode);
}

}  // namespace faceatt
