// Configuration: defaults, then the TOML file, then FACEATT_<SECTION>_<KEY>
// environment variables, then Set() calls (command-line flags), each later one
// winning. Every key is listed, with its default and meaning, in config.toml.
//
// Errors name the key and where the value came from:
//   "recognition.tolerance = -1 (from FACEATT_RECOGNITION_TOLERANCE): must be between 0 and 2"
//
// Thread safety: a Config is a plain value; load it once, then share it read-only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "faceatt/status.h"

namespace faceatt {

struct PathsConfig {
  std::string data_dir = "data";      // runtime state: database, thumbnails, crops, backups
  std::string models_dir = "models";  // where scripts/fetch-models.sh puts model files
  std::string log_dir = "logs";       // rotating log files
  std::string known_faces_dir = "known_faces";  // bulk-enroll input
};

struct ModelsConfig {
  std::string recognizer = "auto";    // .dat or face-api manifest; auto = ResNet (either form), else DenseNet
  std::string architecture = "auto";  // auto | resnet | densenet
  // Runs the recognizer: auto (oneDNN for the ResNet, OpenCV for the DenseNet)
  // | onednn (the ResNet only) | opencv | dlib.
  std::string engine = "auto";
  std::string landmarks = "auto";     // auto = 5-point in models_dir, else Debian's 68-point
  std::string detector = "hog";       // hog | mmod
  std::string mmod_model = "auto";    // auto = models_dir/mmod_human_face_detector.dat
};

struct ImageConfig {
  int64_t max_bytes = 20'000'000;   // larger files are refused before decoding
  int64_t max_pixels = 40'000'000;  // larger images are refused before decoding
  int detect_max_side = 1280;       // detection runs on a copy no longer than this
  // Images shorter than this (longest side) are upsampled before detection:
  // HOG's 80 px window is then over 40% of the photo. Larger ones are
  // detected at their own size first (docs/benchmarks.md: 500 cost bulk-enroll
  // a third of its time on LFW's 250 px photos, for 0.3 points of accepts).
  int upsample_below = 200;
  bool small_face_retry = true;     // no face found: detect again at twice the size
};

struct QualityConfig {
  int min_face_px = 36;        // smaller faces (shorter box side, original pixels): bad_quality
  double min_brightness = 35;  // mean grey of the face chip, 0..255
  double max_brightness = 225;
  double min_sharpness = 12;  // variance of the Laplacian of the 150 px chip
};

struct RecognitionConfig {
  double tolerance = 0;        // accept when distance <= tolerance; 0 = the model's default
  double margin = -1;          // next-best person must be this much further; <0 = model default
  std::string match = "mean";  // mean | min: distance to a person's mean or nearest embedding
  bool flip = true;            // average the embedding of the chip and its mirror image
  int top_k = 3;               // candidates reported per face
};

struct EnrollConfig {
  std::string id_prefix = "EMP";  // generated ids: EMP001, EMP002, ...
  int id_digits = 3;
  bool check_duplicates = true;  // refuse a face that matches someone else (unless --force)
  int thumbnail_px = 300;
};

struct AttendanceConfig {
  int cooldown_seconds = 60;    // same person + same type within this is not recorded twice
  bool allow_second_in = true;  // a second IN on the same local day
  std::string timezone;         // IANA name for local days; empty = the system's
  // Reports (report.h): the working day runs from day_starts_at to the next
  // day's, so a night shift is one day; an IN after work_starts_at is late; a
  // working day with no IN is an absence.
  std::string day_starts_at = "00:00";
  std::string work_starts_at = "09:00";
  std::vector<std::string> working_days = {"Mon", "Tue", "Wed", "Thu", "Fri"};
  // "DEVICE=GROUP": identify from that device_id names only GROUP's people.
  std::vector<std::string> device_groups;
  // Evidence (evidence.h): the face crop of each success or unknown identify
  // attempt under data/attempts/, named by the row's image_ref; files older than
  // photo_retention_days are deleted (0 = kept forever). Off: photos are faces.
  bool keep_photos = false;
  int photo_retention_days = 90;
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8000;
  int workers = 2;        // pipelines working in parallel
  int queue_length = 16;  // requests waiting for a pipeline before 503
  int64_t max_upload_bytes = 10'000'000;
  int read_timeout_seconds = 10;
  int write_timeout_seconds = 10;
  int request_timeout_seconds = 30;      // a whole request (headers and body) must arrive in this
  int max_connections_per_address = 16;  // open connections from one client address
  std::vector<std::string> cors_origins;
  // "GROUP=KEY": a key with the device and reader roles for GROUP only (a
  // teacher's key: identifies and sees only their class).
  std::vector<std::string> group_keys;
  std::vector<std::string> admin_keys;
  std::vector<std::string> device_keys;
  std::vector<std::string> reader_keys;
  // Client networks (CIDR, "10.0.0.0/8", "fd00::/8") whose requests without a
  // key get the device role; [] = none. Admin and reader routes still need a key.
  std::vector<std::string> trusted_networks;
  std::string compat;  // "" or "ml": the ML microservice's routes and answers
  std::string web_dir;  // "" = the web app compiled in; a folder = its files, read per request
  int session_ttl_minutes = 720;  // a browser sign-in (POST /session) lasts this long
};

struct CameraConfig {
  std::string source;  // "" = no camera; "0" = device index; a file path or URL
  int fps = 20;        // MJPEG stream rate
  int jpeg_quality = 80;
  bool gate_identify = true;     // camera-mode identify requires the face inside the guide ellipse
  double guide_min_face = 0.18;  // face width / frame width below which "come closer"
  std::string device_id = "camera";
};

struct WebhookConfig {
  std::vector<std::string> urls;
  std::string bearer_token;
  std::string secret;         // HMAC-SHA256 of the body in X-Faceatt-Signature
  int cooldown_seconds = 60;  // per person, suppresses repeated events
  int max_attempts = 8;
  int timeout_seconds = 5;
  // Several serve nodes on one database: a node holds the events it is
  // delivering this long; those of a node that dies go to another after it.
  int lease_seconds = 60;
};

struct LoggingConfig {
  std::string level = "info";  // trace | debug | info | warn | error | off
  bool file = true;            // also log to log_dir/faceatt.log (rotating)
  int max_file_mb = 10;
  int max_files = 5;
};

// Where people, embeddings and attendance live (store.h, OpenStore).
struct StoreConfig {
  // "" = the SQLite file in paths.data_dir; sqlite:PATH; postgresql://user@host:port/db
  // (several nodes over one database: docs/scale-out.md). Env: FACEATT_STORE_URL.
  std::string url;
};

struct Config {
  PathsConfig paths;
  ModelsConfig models;
  ImageConfig image;
  QualityConfig quality;
  RecognitionConfig recognition;
  EnrollConfig enroll;
  AttendanceConfig attendance;
  ServerConfig server;
  CameraConfig camera;
  WebhookConfig webhook;
  LoggingConfig logging;
  StoreConfig store;

  // Reads `path` (missing file is an error only when `required`), then the
  // environment. Returns the first invalid value as kInvalidArgument.
  static Result<Config> Load(const std::string& path, bool required,
                             const std::map<std::string, std::string>& env);

  // Sets "section.key" from its text form (a flag); `source` is named in errors.
  Status Set(const std::string& key, const std::string& value, const std::string& source);

  // Re-checks cross-key rules (e.g. min_brightness < max_brightness).
  Status Validate() const;

  // Every "section.key" this Config knows, in file order.
  static std::vector<std::string> Keys();
  // The text form of a key's current value ("0.5", "true", "[\"a\"]").
  std::string Get(const std::string& key) const;
};

// The group attendance.device_groups binds `device_id` to ("" when none).
std::string DeviceGroup(const Config& config, const std::string& device_id);
// Splits a "LEFT=RIGHT" list entry (device_groups, group_keys) at its first '='.
std::pair<std::string, std::string> SplitPair(const std::string& entry);

// The environment as a map (for Config::Load).
std::map<std::string, std::string> ProcessEnvironment();

// One warning per FACEATT_* variable in `env` that is neither a config key's
// variable (FACEATT_SECTION_KEY) nor one of the tools' own (FACEATT_CONFIG,
// FACEATT_MODEL_MIRROR, FACEATT_MODEL_URL, FACEATT_MODELS_DIR, FACEATT_BUILD_DIR,
// FACEATT_NATIVE, FACEATT_SHARED_DIR, FACEATT_TEST_*, FACEATT_BENCH_*): a
// misspelled key would otherwise be ignored silently. Each warning names the
// variable and, when one is close, the key variable it probably meant.
std::vector<std::string> EnvironmentWarnings(const std::map<std::string, std::string>& env);

// Rewrites `key = value` lines of a TOML file in place, keeping comments and
// layout; adds missing keys under their section. Atomic (temp file + rename).
Status UpdateConfigFile(const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& key_values);

}  // namespace faceatt
