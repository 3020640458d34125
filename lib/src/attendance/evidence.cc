#include "faceatt/evidence.h"

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <system_error>
#include <vector>

#include "faceatt/image.h"

namespace faceatt {

namespace fs = std::filesystem;

namespace {

// A person judging "is this who the row says" needs some hair and chin around
// the detector's tight box.
constexpr double kCropMargin = 0.25;
// Legible evidence at about 10 KB a face.
constexpr int kJpegQuality = 90;

// 64 random bits for a file name: two attempts in the same millisecond (two
// workers, or a server and a cron identify) never share one.
std::string RandomHex() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t v;
  {
    std::lock_guard lock(mu);
    v = rng();
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Result<std::string> KeepAttemptPhoto(const DataDir& data, const cv::Mat& image, const Box& box,
                                     int64_t now_ms) {
  if (image.empty()) return Status::InvalidArgument("no image to keep");
  const int mx = static_cast<int>(box.width() * kCropMargin);
  const int my = static_cast<int>(box.height() * kCropMargin);
  cv::Rect crop(box.left - mx, box.top - my, box.width() + 2 * mx, box.height() + 2 * my);
  crop &= cv::Rect(0, 0, image.cols, image.rows);
  if (crop.empty()) return Status::InvalidArgument("the face box lies outside the image");
  FACEATT_ASSIGN_OR_RETURN(std::string jpeg, EncodeJpeg(image(crop), kJpegQuality));
  const std::string folder = std::string(kAttemptsFolder) + "/" + LocalDate(now_ms);
  const std::string rel = folder + "/" + std::to_string(now_ms) + "-" + RandomHex() + ".jpg";
  std::error_code ec;
  fs::create_directories(data.root() + "/" + folder, ec);
  if (ec)
    return Status::IoError("cannot create " + data.root() + "/" + folder + ": " + ec.message());
  FACEATT_RETURN_IF_ERROR(WriteFileAtomic(data.root() + "/" + rel, jpeg));
  return rel;
}

std::function<Result<std::string>(const Box&)> AttemptPhotoKeeper(const DataDir& data,
                                                                  const cv::Mat& image,
                                                                  const Clock& clock) {
  return [data, &image, &clock](const Box& box) {
    return KeepAttemptPhoto(data, image, box, clock.NowMillis());
  };
}

Result<int> SweepAttemptPhotos(const DataDir& data, int retention_days) {
  if (retention_days < 0) return Status::InvalidArgument("retention days must be >= 0");
  if (retention_days == 0) return 0;
  const fs::path root = fs::path(data.root()) / kAttemptsFolder;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(root, ec))) return 0;  // nothing kept yet
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24) * retention_days;
  int removed = 0;
  std::vector<fs::path> folders;
  // Not following links: a link planted in attempts/ is removed, its target never touched.
  for (auto it = fs::recursive_directory_iterator(
           root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto status = it->symlink_status(ec);
    if (ec) continue;
    if (fs::is_directory(status)) {
      folders.push_back(it->path());
      continue;
    }
    const auto written =
        fs::is_symlink(status) ? fs::file_time_type::min() : it->last_write_time(ec);
    if (ec || written >= cutoff) continue;
    if (fs::remove(it->path(), ec) && !ec) ++removed;
  }
  // Deepest first; a folder still holding files stays (remove fails on it).
  for (auto f = folders.rbegin(); f != folders.rend(); ++f)
    if (fs::is_empty(*f, ec) && !ec) fs::remove(*f, ec);
  return removed;
}

Result<std::string> AttemptPhotoFile(const DataDir& data, const std::string& image_ref) {
  if (image_ref.empty()) return Status::NotFound("the record has no photo");
  const fs::path ref(image_ref);
  bool inside = !ref.is_absolute() && ref.begin() != ref.end() && *ref.begin() == kAttemptsFolder;
  for (const auto& part : ref) inside &= part != ".." && part != ".";
  if (!inside) return Status::NotFound("the record's image_ref is not a photo faceatt kept");
  const fs::path file = fs::path(data.root()) / ref;
  std::error_code ec;
  // A link inside attempts/ must not lead out of it either.
  const fs::path real = fs::weakly_canonical(file, ec);
  const fs::path base = fs::weakly_canonical(fs::path(data.root()) / kAttemptsFolder, ec);
  const auto rel = real.lexically_relative(base);
  if (ec || rel.empty() || *rel.begin() == "..")
    return Status::NotFound("the record's image_ref is not a photo faceatt kept");
  if (!fs::is_regular_file(real, ec)) return Status::NotFound("photo no longer kept");
  return real.string();
}

}  // namespace faceatt
