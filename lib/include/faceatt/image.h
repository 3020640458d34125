// Image input: decoding files and byte buffers into 8-bit BGR cv::Mat, with
// size limits checked before any pixel is decoded.
//
// Accepted: JPEG, PNG, BMP, WebP, TIFF. EXIF orientation is applied (phone
// photos come out upright). Every refusal is a Status:
//   kBadInput          empty, truncated, or not an image of a known format
//   kResourceExhausted more bytes than max_bytes or more pixels than max_pixels
//   kNotFound/kIoError the file is missing or unreadable
//
// Thread safety: all functions are safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

#include "faceatt/status.h"

namespace faceatt {

struct ImageLimits {
  int64_t max_bytes = 20'000'000;
  int64_t max_pixels = 40'000'000;
};

// Width and height read from the header alone; kBadInput when the format is unknown
// or the header is cut short. Used to refuse decompression bombs before decoding.
struct ImageHeader {
  std::string format;  // "jpeg", "png", "bmp", "webp", "tiff"
  int width = 0;
  int height = 0;
};
Result<ImageHeader> ProbeImage(std::string_view bytes);

// Decodes `bytes`; `name` is used in error messages only.
Result<cv::Mat> DecodeImage(std::string_view bytes, const ImageLimits& limits,
                            const std::string& name = "image");

// Reads and decodes a file (refusing it before reading when it is too large).
Result<cv::Mat> ReadImageFile(const std::string& path, const ImageLimits& limits);

// Reads a whole file into memory (kNotFound / kIoError / kResourceExhausted past max_bytes).
Result<std::string> ReadFileBytes(const std::string& path, int64_t max_bytes);

// Writes bytes to path atomically: a temporary file in the same folder, fsync, rename.
Status WriteFileAtomic(const std::string& path, std::string_view bytes, int mode = 0644);

// Lower-case hex SHA-256.
std::string Sha256Hex(std::string_view bytes);

// JPEG-encodes an 8-bit image with 1, 3 (BGR) or 4 (BGRA, alpha dropped)
// channels at quality 1..100 (clamped); any other image is kInvalidArgument.
Result<std::string> EncodeJpeg(const cv::Mat& image, int quality);
// PNG-encodes the same kinds of image, alpha kept (lossless: the aligned chips
// kept for reembed).
Result<std::string> EncodePng(const cv::Mat& image);

}  // namespace faceatt
