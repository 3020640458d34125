// Hostile image files built by code (issue 12): each once crashed faceatt or got
// past its size limits. Used by the image and CLI tests and as fuzz seeds.
#pragma once

#include <cstdint>
#include <string>

namespace faceatt::testing {

// 132 bytes: a WebP header whose VP8 data is garbage and "DICM" at offset 128,
// where OpenCV's imdecode handed it to its DICOM decoder, which aborted.
std::string WebpWithDicomMagic();
// 243 bytes: the same followed by DICOM image elements claiming 65535x65535
// pixels; OpenCV allocated 3.5 GB for it.
std::string WebpWithDicomImage();
// A small grey TIFF whose IFD gives ImageWidth twice (first `first_width`, then 1)
// and ImageLength `height`: libtiff uses the first width.
std::string TiffWithWidthTwice(uint32_t first_width, uint32_t height);

}  // namespace faceatt::testing
