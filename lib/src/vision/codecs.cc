#include "vision/codecs.h"

#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>
#include <webp/decode.h>

#include <algorithm>
#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <opencv2/imgproc.hpp>

// stb_image compiled here with its BMP reader only: no other decoder exists in it.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace faceatt::codecs {
namespace {

Status TooManyPixels(const std::string& name, uint64_t width, uint64_t height, int64_t max_pixels) {
  return Status::ResourceExhausted(name + ": " + std::to_string(width) + "x" +
                                   std::to_string(height) + " pixels, more than the limit of " +
                                   std::to_string(max_pixels));
}

bool Exceeds(uint64_t width, uint64_t height, int64_t max_pixels) {
  return width == 0 || height == 0 || width * height > static_cast<uint64_t>(max_pixels) ||
         width > INT32_MAX || height > INT32_MAX;
}

Status CannotDecode(const std::string& name, const char* format, const std::string& why) {
  return Status::BadInput(name + ": cannot decode " + format + " (" + why + ")");
}

uint32_t Read16(std::string_view b, size_t i, bool le) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data()) + i;
  return le ? p[0] | (p[1] << 8) : (p[0] << 8) | p[1];
}
uint32_t Read32(std::string_view b, size_t i, bool le) {
  return le ? Read16(b, i, le) | (Read16(b, i + 2, le) << 16)
            : (Read16(b, i, le) << 16) | Read16(b, i + 2, le);
}

// --- JPEG ---------------------------------------------------------------------
// libjpeg reports errors by calling error_exit, which must not return: it jumps
// back to the setjmp in the stage that called libjpeg. Those stages hold no C++
// objects with destructors, so the jump skips nothing.
struct JpegErrors {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings ("Corrupt JPEG data: ...") are dropped: the library never prints, and
// libjpeg decodes what it can, as OpenCV did.
void JpegNoMessage(j_common_ptr, int) {}

// A progressive JPEG can hold thousands of tiny scans, each a pass over the whole
// coefficient buffer; real encoders write about ten.
constexpr int kMaxJpegScans = 1000;
void JpegProgress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxJpegScans) {
    auto* err = reinterpret_cast<JpegErrors*>(cinfo->err);
    std::snprintf(err->message, sizeof err->message, "more than %d scans", kMaxJpegScans);
    std::longjmp(err->jump, 1);
  }
}

bool JpegReadHeader(jpeg_decompress_struct* cinfo, JpegErrors* err, std::string_view bytes) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(cinfo, TRUE);
  const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_EXT_BGR;
  jpeg_calc_output_dimensions(cinfo);
  return true;
}

bool JpegReadPixels(jpeg_decompress_struct* cinfo, JpegErrors* err, unsigned char* data,
                    size_t step) {
  if (setjmp(err->jump)) return false;
  jpeg_start_decompress(cinfo);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = data + step * cinfo->output_scanline;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

// Adobe writes CMYK JPEGs inverted (0 = full ink), as libjpeg returns them.
cv::Mat InvertedCmykToBgr(const cv::Mat& cmyk) {
  cv::Mat out(cmyk.rows, cmyk.cols, CV_8UC3);
  for (int y = 0; y < cmyk.rows; ++y) {
    const uint8_t* s = cmyk.ptr<uint8_t>(y);
    uint8_t* d = out.ptr<uint8_t>(y);
    for (int x = 0; x < cmyk.cols; ++x, s += 4, d += 3) {
      d[0] = static_cast<uint8_t>(s[2] * s[3] / 255);
      d[1] = static_cast<uint8_t>(s[1] * s[3] / 255);
      d[2] = static_cast<uint8_t>(s[0] * s[3] / 255);
    }
  }
  return out;
}

// The stage of EncodeJpeg that calls libjpeg (no C++ objects with destructors,
// for the same reason as above).
bool JpegCompress(jpeg_compress_struct* cinfo, JpegErrors* err, const cv::Mat& image, int quality,
                  unsigned char** out, unsigned long* out_size) {
  if (setjmp(err->jump)) return false;
  jpeg_create_compress(cinfo);
  jpeg_mem_dest(cinfo, out, out_size);
  cinfo->image_width = static_cast<JDIMENSION>(image.cols);
  cinfo->image_height = static_cast<JDIMENSION>(image.rows);
  cinfo->input_components = image.channels();
  cinfo->in_color_space = image.channels() == 1 ? JCS_GRAYSCALE : JCS_EXT_BGR;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  while (cinfo->next_scanline < cinfo->image_height) {
    JSAMPROW row = const_cast<unsigned char*>(
        image.ptr<unsigned char>(static_cast<int>(cinfo->next_scanline)));
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return true;
}

Status CheckEncodable(const cv::Mat& image, const char* format) {
  if (image.empty() || image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument(std::string("cannot encode ") + format +
                                   ": needs a non-empty 8-bit image with 1, 3 or 4 channels");
  return Status::Ok();
}

// --- TIFF ---------------------------------------------------------------------
struct MemoryFile {
  std::string_view bytes;
  uint64_t pos = 0;
};

tmsize_t TiffRead(thandle_t h, void* buf, tmsize_t n) {
  auto* f = static_cast<MemoryFile*>(h);
  if (f->pos >= f->bytes.size() || n <= 0) return 0;
  const uint64_t k = std::min<uint64_t>(static_cast<uint64_t>(n), f->bytes.size() - f->pos);
  std::memcpy(buf, f->bytes.data() + f->pos, k);
  f->pos += k;
  return static_cast<tmsize_t>(k);
}
tmsize_t TiffWrite(thandle_t, void*, tmsize_t) { return 0; }
toff_t TiffSeek(thandle_t h, toff_t off, int whence) {
  auto* f = static_cast<MemoryFile*>(h);
  const uint64_t base = whence == SEEK_CUR ? f->pos : whence == SEEK_END ? f->bytes.size() : 0;
  if (off > UINT64_MAX - base) return static_cast<toff_t>(-1);
  f->pos = base + off;
  return f->pos;
}
int TiffClose(thandle_t) { return 0; }
toff_t TiffSize(thandle_t h) { return static_cast<MemoryFile*>(h)->bytes.size(); }
int TiffMap(thandle_t, void**, toff_t*) { return 0; }
void TiffUnmap(thandle_t, void*, toff_t) {}

// Keeps the first error libtiff reports (returning 1: handled, not printed).
int TiffError(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* first = static_cast<std::string*>(user);
  if (first->empty()) {
    char buf[256];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    *first = buf;
  }
  return 1;
}
int TiffWarning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

// libtiff's own buffers (a strip, a tile) get at most this many bytes per pixel
// allowed, so a small file cannot make it allocate past the pixel limit.
constexpr int64_t kTiffBytesPerPixel = 8;
constexpr int64_t kTiffMinAlloc = 16 << 20;

}  // namespace

int ExifOrientation(std::string_view app1) {
  if (app1.size() < 14 || app1.substr(0, 6) != std::string_view("Exif\0\0", 6)) return 1;
  const std::string_view tiff = app1.substr(6);
  const bool le = tiff.substr(0, 2) == "II";
  if (!le && tiff.substr(0, 2) != "MM") return 1;
  const uint64_t ifd = Read32(tiff, 4, le);
  if (ifd + 2 > tiff.size()) return 1;
  const uint32_t n = Read16(tiff, ifd, le);
  for (uint32_t k = 0; k < n; ++k) {
    const uint64_t e = ifd + 2 + 12ull * k;
    if (e + 12 > tiff.size()) return 1;
    if (Read16(tiff, e, le) == 0x0112) {
      const uint32_t v = Read16(tiff, e + 8, le);
      return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
    }
  }
  return 1;
}

cv::Mat ApplyOrientation(cv::Mat image, int orientation) {
  cv::Mat out;
  switch (orientation) {
    case 2:
      cv::flip(image, out, 1);
      return out;
    case 3:
      cv::rotate(image, out, cv::ROTATE_180);
      return out;
    case 4:
      cv::flip(image, out, 0);
      return out;
    case 5:
      cv::transpose(image, out);
      return out;
    case 6:
      cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE);
      return out;
    case 7:
      cv::transpose(image, out);
      cv::flip(out, out, -1);
      return out;
    case 8:
      cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE);
      return out;
    default:
      return image;
  }
}

Result<cv::Mat> DecodeJpeg(std::string_view bytes, int64_t max_pixels, const std::string& name) {
  jpeg_decompress_struct cinfo{};
  JpegErrors err{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = JpegErrorExit;
  err.pub.emit_message = JpegNoMessage;
  jpeg_progress_mgr progress{};
  progress.progress_monitor = JpegProgress;
  struct Destroy {
    jpeg_decompress_struct* c;
    ~Destroy() { jpeg_destroy_decompress(c); }
  } destroy{&cinfo};
  if (!JpegReadHeader(&cinfo, &err, bytes)) return CannotDecode(name, "jpeg", err.message);
  cinfo.progress = &progress;
  if (Exceeds(cinfo.output_width, cinfo.output_height, max_pixels))
    return TooManyPixels(name, cinfo.output_width, cinfo.output_height, max_pixels);
  const bool cmyk = cinfo.out_color_space == JCS_CMYK;
  cv::Mat pixels(static_cast<int>(cinfo.output_height), static_cast<int>(cinfo.output_width),
                 cmyk ? CV_8UC4 : CV_8UC3);
  int orientation = 1;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
    if (m->marker == JPEG_APP0 + 1 && orientation == 1)
      orientation =
          ExifOrientation(std::string_view(reinterpret_cast<const char*>(m->data), m->data_length));
  if (!JpegReadPixels(&cinfo, &err, pixels.data, pixels.step))
    return CannotDecode(name, "jpeg", err.message);
  return ApplyOrientation(cmyk ? InvertedCmykToBgr(pixels) : pixels, orientation);
}

// libpng's simplified API collects warnings (bad colour profiles are common in
// web PNGs) instead of printing them.
Result<cv::Mat> DecodePng(std::string_view bytes, int64_t max_pixels, const std::string& name) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
    return CannotDecode(name, "png", image.message);
  if (Exceeds(image.width, image.height, max_pixels)) {
    png_image_free(&image);
    return TooManyPixels(name, image.width, image.height, max_pixels);
  }
  image.format = PNG_FORMAT_BGR;
  cv::Mat out(static_cast<int>(image.height), static_cast<int>(image.width), CV_8UC3);
  const png_color white{255, 255, 255};  // transparent areas become white
  if (!png_image_finish_read(&image, &white, out.data, static_cast<png_int_32>(out.step),
                             nullptr)) {
    std::string why = image.message;
    png_image_free(&image);
    return CannotDecode(name, "png", why);
  }
  return out;
}

Result<cv::Mat> DecodeBmp(std::string_view bytes, int64_t max_pixels, const std::string& name) {
  if (bytes.size() > INT32_MAX) return CannotDecode(name, "bmp", "too large");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &channels))
    return CannotDecode(name, "bmp", stbi_failure_reason());
  if (Exceeds(static_cast<uint32_t>(w), static_cast<uint32_t>(h), max_pixels))
    return TooManyPixels(name, static_cast<uint32_t>(w), static_cast<uint32_t>(h), max_pixels);
  stbi_uc* rgb = stbi_load_from_memory(data, len, &w, &h, &channels, 3);
  if (!rgb) return CannotDecode(name, "bmp", stbi_failure_reason());
  cv::Mat out;
  cv::cvtColor(cv::Mat(h, w, CV_8UC3, rgb), out, cv::COLOR_RGB2BGR);
  stbi_image_free(rgb);
  return out;
}

Result<cv::Mat> DecodeWebp(std::string_view bytes, int64_t max_pixels, const std::string& name) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  WebPBitstreamFeatures features{};
  if (WebPGetFeatures(data, bytes.size(), &features) != VP8_STATUS_OK)
    return CannotDecode(name, "webp", "damaged data");
  if (features.has_animation) return CannotDecode(name, "webp", "animated WebP is not supported");
  const auto w = static_cast<uint32_t>(features.width), h = static_cast<uint32_t>(features.height);
  if (Exceeds(w, h, max_pixels)) return TooManyPixels(name, w, h, max_pixels);
  cv::Mat out(static_cast<int>(h), static_cast<int>(w), CV_8UC3);
  if (!WebPDecodeBGRInto(data, bytes.size(), out.data, out.total() * out.elemSize(),
                         static_cast<int>(out.step)))
    return CannotDecode(name, "webp", "damaged data");
  return out;
}

Result<cv::Mat> DecodeTiff(std::string_view bytes, int64_t max_pixels, const std::string& name) {
  MemoryFile file{bytes};
  std::string error;
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(opts, TiffError, &error);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, TiffWarning, nullptr);
  TIFFOpenOptionsSetMaxSingleMemAlloc(
      opts, static_cast<tmsize_t>(std::max(kTiffMinAlloc, max_pixels * kTiffBytesPerPixel)));
  // "m": no memory mapping; the bytes are already in memory.
  TIFF* tif = TIFFClientOpenExt(name.c_str(), "rm", &file, TiffRead, TiffWrite, TiffSeek, TiffClose,
                                TiffSize, TiffMap, TiffUnmap, opts);
  TIFFOpenOptionsFree(opts);
  if (!tif) return CannotDecode(name, "tiff", error.empty() ? "damaged data" : error);
  struct Close {
    TIFF* t;
    ~Close() { TIFFClose(t); }
  } close{tif};
  uint32_t w = 0, h = 0;
  // The size libtiff itself will decode (with a tag given twice, its choice).
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h))
    return CannotDecode(name, "tiff", "no image size");
  if (Exceeds(w, h, max_pixels)) return TooManyPixels(name, w, h, max_pixels);
  char why[1024] = "";
  if (!TIFFRGBAImageOK(tif, why)) return CannotDecode(name, "tiff", why);
  cv::Mat rgba(static_cast<int>(h), static_cast<int>(w), CV_8UC4);
  if (!TIFFReadRGBAImageOriented(tif, w, h, reinterpret_cast<uint32_t*>(rgba.data),
                                 ORIENTATION_TOPLEFT, 0))
    return CannotDecode(name, "tiff", error.empty() ? "damaged data" : error);
  cv::Mat out;
  cv::cvtColor(rgba, out, cv::COLOR_RGBA2BGR);  // the raster is R,G,B,A bytes in memory
  return out;
}

// --- Encoders -----------------------------------------------------------------
Result<std::string> EncodeJpeg(const cv::Mat& image, int quality) {
  if (Status st = CheckEncodable(image, "JPEG"); !st.ok()) return st;
  cv::Mat bgr = image;
  if (image.channels() == 4) cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
  jpeg_compress_struct cinfo{};
  JpegErrors err{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = JpegErrorExit;
  err.pub.emit_message = JpegNoMessage;
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  const bool ok = JpegCompress(&cinfo, &err, bgr, std::clamp(quality, 1, 100), &out, &out_size);
  jpeg_destroy_compress(&cinfo);
  std::string bytes = ok ? std::string(reinterpret_cast<char*>(out), out_size) : std::string();
  std::free(out);  // jpeg_mem_dest's buffer, malloc'ed by libjpeg
  if (!ok) return Status::Internal(std::string("JPEG encoding failed: ") + err.message);
  return bytes;
}

Result<std::string> EncodePng(const cv::Mat& image) {
  if (Status st = CheckEncodable(image, "PNG"); !st.ok()) return st;
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.cols);
  png.height = static_cast<png_uint_32>(image.rows);
  png.format = image.channels() == 1   ? PNG_FORMAT_GRAY
               : image.channels() == 3 ? PNG_FORMAT_BGR
                                       : PNG_FORMAT_BGRA;
  const auto stride = static_cast<png_int_32>(image.step[0]);  // 8-bit: bytes = components
  // FLAG_FAST: zlib's fastest level and one filter. The crops kept for
  // reembed were a fifth of bulk-enroll's CPU at the default level (perf
  // record, docs/benchmarks.md); the file is about a tenth larger.
  png.flags = PNG_IMAGE_FLAG_FAST;
  // One call into a buffer of the bound libpng states, not one to measure and one to write.
  png_alloc_size_t size = PNG_IMAGE_PNG_SIZE_MAX(png);
  std::string bytes(size, '\0');
  if (!png_image_write_to_memory(&png, bytes.data(), &size, 0, image.data, stride, nullptr)) {
    std::string why = png.message;
    png_image_free(&png);
    return Status::Internal("PNG encoding failed: " + why);
  }
  bytes.resize(size);
  return bytes;
}

}  // namespace faceatt::codecs
