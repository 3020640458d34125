// Evidence photos (attendance.keep_photos, issue 14): the face crop of each
// success or unknown identify attempt, kept under the data folder as
// attempts/YYYY-MM-DD/<unix ms>-<random>.jpg (the attempt's local date) and
// named by the row's image_ref.
//
//   KeepAttemptPhoto: the face box (with a margin, clipped to the image) as a
//     JPEG, written atomically BEFORE the row is inserted, so a row never names
//     a photo that was not written (a crash in between leaves an unreferenced
//     file, swept like the rest). Returns the data-folder-relative path.
//     kInvalidArgument for an empty image or a box outside it; kIoError.
//   SweepAttemptPhotos: deletes the files under attempts/ last written more
//     than retention_days ago (0 = keep forever: nothing is deleted), then the
//     day folders left empty. Never anything outside attempts/; symbolic links
//     are removed, not followed. Returns how many files were deleted; entries
//     it cannot read or remove are passed over.
//   AttemptPhotoFile: the absolute file behind a row's image_ref. kNotFound
//     when the ref is empty, is not a relative path inside attempts/ (an
//     absolute path, "..", or a row imported from another system: refused,
//     never read), or the file is gone ("photo no longer kept").
//
// Thread safety: free functions; files are written atomically under unique
// names, so concurrent callers (server workers, a cron identify) are safe.
#pragma once

#include <functional>
#include <opencv2/core.hpp>
#include <string>

#include "faceatt/clock.h"
#include "faceatt/data_dir.h"
#include "faceatt/pipeline.h"
#include "faceatt/status.h"

namespace faceatt {

inline constexpr const char* kAttemptsFolder = "attempts";

Result<std::string> KeepAttemptPhoto(const DataDir& data, const cv::Mat& image, const Box& box,
                                     int64_t now_ms);

// KeepAttemptPhoto bound to one image, for Attempt::keep_photo. `image` and
// `clock` must outlive the returned function.
std::function<Result<std::string>(const Box&)> AttemptPhotoKeeper(const DataDir& data,
                                                                  const cv::Mat& image,
                                                                  const Clock& clock);

Result<int> SweepAttemptPhotos(const DataDir& data, int retention_days);

Result<std::string> AttemptPhotoFile(const DataDir& data, const std::string& image_ref);

}  // namespace faceatt
