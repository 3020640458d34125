#include "faceatt/image.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>

#include "vision/codecs.h"

namespace faceatt {
namespace {

uint32_t Be16(std::string_view b, size_t i) {
  return (static_cast<uint8_t>(b[i]) << 8) | static_cast<uint8_t>(b[i + 1]);
}
uint32_t Be32(std::string_view b, size_t i) { return (Be16(b, i) << 16) | Be16(b, i + 2); }
uint32_t Le16(std::string_view b, size_t i) {
  return static_cast<uint8_t>(b[i]) | (static_cast<uint8_t>(b[i + 1]) << 8);
}
uint32_t Le32(std::string_view b, size_t i) { return Le16(b, i) | (Le16(b, i + 2) << 16); }
uint32_t Le24(std::string_view b, size_t i) {
  return Le16(b, i) | (static_cast<uint8_t>(b[i + 2]) << 16);
}

Status Truncated(const char* format) {
  return Status::BadInput(std::string("truncated or damaged ") + format + " file");
}

// Walks JPEG markers to the first frame header; also insists that the entropy-coded
// data after the first scan ends with an EOI marker, which a cut-off download lacks.
Result<ImageHeader> ProbeJpeg(std::string_view b) {
  ImageHeader h{"jpeg"};
  size_t i = 2;
  bool have_size = false;
  while (i + 4 <= b.size()) {
    if (static_cast<uint8_t>(b[i]) != 0xFF) return Truncated("JPEG");
    uint8_t m = static_cast<uint8_t>(b[i + 1]);
    if (m == 0xFF) {
      ++i;
      continue;
    }
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
      i += 2;
      continue;
    }
    if (m == 0xD9) break;
    size_t len = Be16(b, i + 2);
    if (len < 2 || i + 2 + len > b.size()) return Truncated("JPEG");
    bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (sof && !have_size) {
      if (len < 7) return Truncated("JPEG");
      h.height = static_cast<int>(Be16(b, i + 5));
      h.width = static_cast<int>(Be16(b, i + 7));
      have_size = true;
    }
    if (m == 0xDA) {  // start of scan: image data follows up to EOI
      if (!have_size) return Truncated("JPEG");
      size_t eoi = b.rfind("\xFF\xD9");
      if (eoi == std::string_view::npos || eoi < i) return Truncated("JPEG");
      return h;
    }
    i += 2 + len;
  }
  return Truncated("JPEG");
}

Result<ImageHeader> ProbeTiff(std::string_view b) {
  const bool le = b[0] == 'I';
  auto u16 = [&](size_t i) { return le ? Le16(b, i) : Be16(b, i); };
  auto u32 = [&](size_t i) { return le ? Le32(b, i) : Be32(b, i); };
  size_t ifd = u32(4);
  if (ifd + 2 > b.size()) return Truncated("TIFF");
  size_t n = u16(ifd);
  ImageHeader h{"tiff"};
  for (size_t k = 0; k < n; ++k) {
    size_t e = ifd + 2 + 12 * k;
    if (e + 12 > b.size()) return Truncated("TIFF");
    uint32_t tag = u16(e), type = u16(e + 2);
    uint32_t value = type == 3 ? u16(e + 8) : u32(e + 8);
    // A tag given twice: libtiff keeps the first, and so does the probe.
    if (tag == 256 && h.width == 0) h.width = static_cast<int>(value);
    if (tag == 257 && h.height == 0) h.height = static_cast<int>(value);
  }
  if (h.width <= 0 || h.height <= 0) return Truncated("TIFF");
  return h;
}

Result<ImageHeader> ProbeWebp(std::string_view b) {
  ImageHeader h{"webp"};
  if (b.size() < 30) return Truncated("WebP");
  std::string_view chunk = b.substr(12, 4);
  if (chunk == "VP8 ") {
    h.width = static_cast<int>(Le16(b, 26) & 0x3FFF);
    h.height = static_cast<int>(Le16(b, 28) & 0x3FFF);
  } else if (chunk == "VP8L") {
    uint32_t b0 = static_cast<uint8_t>(b[21]), b1 = static_cast<uint8_t>(b[22]),
             b2 = static_cast<uint8_t>(b[23]), b3 = static_cast<uint8_t>(b[24]);
    h.width = static_cast<int>(1 + (b0 | ((b1 & 0x3F) << 8)));
    h.height = static_cast<int>(1 + ((b1 >> 6) | (b2 << 2) | ((b3 & 0x0F) << 10)));
  } else if (chunk == "VP8X") {
    h.width = static_cast<int>(1 + Le24(b, 24));
    h.height = static_cast<int>(1 + Le24(b, 27));
  } else {
    return Status::BadInput("unsupported WebP variant");
  }
  if (Le32(b, 4) + 8 > b.size()) return Truncated("WebP");
  return h;
}

}  // namespace

Result<ImageHeader> ProbeImage(std::string_view b) {
  if (b.empty()) return Status::BadInput("empty file");
  if (b.size() >= 4 && static_cast<uint8_t>(b[0]) == 0xFF && static_cast<uint8_t>(b[1]) == 0xD8 &&
      static_cast<uint8_t>(b[2]) == 0xFF)
    return ProbeJpeg(b);
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    if (b.size() < 33 || b.substr(12, 4) != "IHDR") return Truncated("PNG");
    ImageHeader h{"png", static_cast<int>(Be32(b, 16)), static_cast<int>(Be32(b, 20))};
    if (b.rfind("IEND") == std::string_view::npos || b.rfind("IEND") < 33) return Truncated("PNG");
    return h;
  }
  if (b.size() >= 2 && b.substr(0, 2) == "BM") {
    if (b.size() < 26) return Truncated("BMP");
    ImageHeader h{"bmp"};
    if (Le32(b, 14) == 12) {
      h.width = static_cast<int>(Le16(b, 18));
      h.height = static_cast<int>(Le16(b, 20));
    } else {
      h.width = static_cast<int32_t>(Le32(b, 18));
      h.height = std::abs(static_cast<int32_t>(Le32(b, 22)));
    }
    if (Le32(b, 2) > b.size()) return Truncated("BMP");
    return h;
  }
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return ProbeWebp(b);
  if (b.size() >= 8 && (b.substr(0, 4) == std::string_view("II*\0", 4) ||
                        b.substr(0, 4) == std::string_view("MM\0*", 4)))
    return ProbeTiff(b);
  return Status::BadInput(
      "not an image (unrecognised format; expected JPEG, PNG, BMP, WebP or TIFF)");
}

Result<cv::Mat> DecodeImage(std::string_view bytes, const ImageLimits& limits,
                            const std::string& name) {
  if (static_cast<int64_t>(bytes.size()) > limits.max_bytes)
    return Status::ResourceExhausted(name + ": " + std::to_string(bytes.size()) +
                                     " bytes, more than the limit of " +
                                     std::to_string(limits.max_bytes));
  // The probe refuses unknown formats, cut-off files and oversized headers cheaply;
  // each decoder then checks the size its library reports before allocating.
  auto header = ProbeImage(bytes);
  if (!header.ok()) return header.status().WithPrefix(name);
  if (header->width <= 0 || header->height <= 0)
    return Status::BadInput(name + ": image has no pixels");
  const int64_t pixels = static_cast<int64_t>(header->width) * header->height;
  if (pixels > limits.max_pixels)
    return Status::ResourceExhausted(
        name + ": " + std::to_string(header->width) + "x" + std::to_string(header->height) +
        " pixels, more than the limit of " + std::to_string(limits.max_pixels));
  using Decoder = Result<cv::Mat> (*)(std::string_view, int64_t, const std::string&);
  static const std::pair<std::string_view, Decoder> kDecoders[] = {
      {"jpeg", codecs::DecodeJpeg}, {"png", codecs::DecodePng},   {"bmp", codecs::DecodeBmp},
      {"webp", codecs::DecodeWebp}, {"tiff", codecs::DecodeTiff},
  };
  for (const auto& [format, decode] : kDecoders)
    if (header->format == format) return decode(bytes, limits.max_pixels, name);
  return Status::Internal(name + ": no decoder for " + header->format);
}

Result<std::string> ReadFileBytes(const std::string& path, int64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return errno == ENOENT ? Status::NotFound(path + ": no such file")
                           : Status::IoError(path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return Status::BadInput(path + ": is a folder, not a file");
  if (st.st_size > max_bytes)
    return Status::ResourceExhausted(path + ": " + std::to_string(st.st_size) +
                                     " bytes, more than the limit of " + std::to_string(max_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::string data(static_cast<size_t>(st.st_size), '\0');
  in.read(data.data(), st.st_size);
  if (in.gcount() != st.st_size) return Status::IoError(path + ": short read");
  return data;
}

Result<cv::Mat> ReadImageFile(const std::string& path, const ImageLimits& limits) {
  FACEATT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path, limits.max_bytes));
  return DecodeImage(bytes, limits, path);
}

Status WriteFileAtomic(const std::string& path, std::string_view bytes, int mode) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  std::string tmpl = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return Status::IoError("cannot create " + tmpl + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmpl.c_str());
      return Status::IoError("cannot write " + path + ": " + err);
    }
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, static_cast<mode_t>(mode));
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    return Status::IoError("cannot flush " + path + ": " + std::strerror(errno));
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    std::string err = std::strerror(errno);
    ::unlink(tmpl.c_str());
    return Status::IoError("cannot rename onto " + path + ": " + err);
  }
  // Make the rename itself durable.
  int dfd = ::open(target.has_parent_path() ? target.parent_path().c_str() : ".", O_RDONLY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

Result<std::string> EncodeJpeg(const cv::Mat& image, int quality) {
  return codecs::EncodeJpeg(image, quality);
}

Result<std::string> EncodePng(const cv::Mat& image) { return codecs::EncodePng(image); }

}  // namespace faceatt
