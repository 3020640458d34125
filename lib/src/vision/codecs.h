// One decoder per accepted format, each calling that format's own library
// (libjpeg-turbo, libpng, stb_image built with BMP only, libwebp, libtiff), so
// bytes never reach a decoder faceatt did not choose: OpenCV's imdecode picks
// among all its decoders by signature and reached GDCM (DICOM), which aborts.
//
// Each decoder checks the width and height the library itself reports (the
// values it will allocate for) against max_pixels before decoding any pixel,
// returns 8-bit BGR, and never prints: warnings are dropped, errors become
// kBadInput naming `name`; too many pixels is kResourceExhausted.
// Thread safety: all functions are safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

#include "faceatt/status.h"

namespace faceatt::codecs {

// JPEG, with the EXIF orientation applied (phone photos come out upright).
Result<cv::Mat> DecodeJpeg(std::string_view bytes, int64_t max_pixels, const std::string& name);
// PNG; transparent areas become white.
Result<cv::Mat> DecodePng(std::string_view bytes, int64_t max_pixels, const std::string& name);
// BMP: 1/4/8/16/24/32 bits per pixel, uncompressed or bit fields (no RLE).
Result<cv::Mat> DecodeBmp(std::string_view bytes, int64_t max_pixels, const std::string& name);
// WebP, still images only (lossy, lossless, extended).
Result<cv::Mat> DecodeWebp(std::string_view bytes, int64_t max_pixels, const std::string& name);
// TIFF, first page; the orientation tag is applied.
Result<cv::Mat> DecodeTiff(std::string_view bytes, int64_t max_pixels, const std::string& name);

// Encoders for what faceatt writes (thumbnails, chips, MJPEG frames, plots):
// 8-bit images with 1 (gray), 3 (BGR) or 4 (BGRA) channels; anything else is
// kInvalidArgument. Called here rather than through OpenCV's imgcodecs, whose
// shared library (with GDAL and every codec it links) costs a cold start
// about 130 ms of loading for two functions.
// JPEG at `quality` (1..100); an alpha channel is dropped.
Result<std::string> EncodeJpeg(const cv::Mat& image, int quality);
// PNG, lossless; alpha kept.
Result<std::string> EncodePng(const cv::Mat& image);

// The EXIF orientation (1..8) in a JPEG APP1 payload ("Exif\0\0" + TIFF), or 1.
int ExifOrientation(std::string_view app1);
// Turns an image stored with EXIF orientation `orientation` upright.
cv::Mat ApplyOrientation(cv::Mat image, int orientation);

}  // namespace faceatt::codecs
