#include "faceatt/image.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "support/hostile_images.h"
#include "support/testing.h"
#include "vision/codecs.h"

namespace faceatt {
namespace {

using testing::Face;
using testing::ReadFile;

std::string Encode(const cv::Mat& m, const std::string& ext) {
  std::vector<uchar> buf;
  EXPECT_TRUE(cv::imencode(ext, m, buf));
  return std::string(buf.begin(), buf.end());
}

// A 40x20 image, left half red, right half blue: orientation is visible.
cv::Mat Marker() {
  cv::Mat m(20, 40, CV_8UC3, cv::Scalar(255, 0, 0));
  m(cv::Rect(0, 0, 20, 20)).setTo(cv::Scalar(0, 0, 255));
  return m;
}

TEST(ImageTest, DecodesEveryAcceptedFormat) {
  for (const std::string ext : {".jpg", ".png", ".bmp", ".webp", ".tiff"}) {
    const std::string bytes = Encode(Marker(), ext);
    auto header = ProbeImage(bytes);
    ASSERT_TRUE(header.ok()) << ext << ": " << header.status().ToString();
    EXPECT_EQ(header->width, 40) << ext;
    EXPECT_EQ(header->height, 20) << ext;
    auto image = DecodeImage(bytes, {}, "m" + ext);
    ASSERT_TRUE(image.ok()) << ext << ": " << image.status().ToString();
    EXPECT_EQ(image->cols, 40);
    EXPECT_EQ(image->type(), CV_8UC3);
  }
}

TEST(ImageTest, RealPhotosDecode) {
  auto lfw = ReadImageFile(Face("lfw/Abdullah_Gul/Abdullah_Gul_0001.jpg"), {});
  ASSERT_TRUE(lfw.ok()) << lfw.status().ToString();
  EXPECT_EQ(lfw->cols, 250);
  auto png = ReadImageFile(Face("people/bbt/amy/amy1.png"), {});
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  EXPECT_EQ(png->channels(), 3);  // grey PNGs come out as BGR
}

// Inserts an EXIF APP1 segment with the given orientation after SOI.
std::string WithExifOrientation(const std::string& jpeg, int orientation) {
  std::string tiff =
      std::string("MM\0*", 4) + std::string("\0\0\0\x08", 4);  // big-endian, IFD at 8
  tiff += std::string("\0\x01", 2);                            // one entry
  tiff += std::string("\x01\x12\0\x03\0\0\0\x01", 8);          // Orientation, SHORT, 1
  tiff += std::string("\0", 1) + static_cast<char>(orientation) + std::string("\0\0", 2);
  tiff += std::string("\0\0\0\0", 4);  // no next IFD
  std::string app1 = std::string("Exif\0\0", 6) + tiff;
  const size_t len = app1.size() + 2;
  std::string segment = "\xFF\xE1";
  segment += static_cast<char>(len >> 8);
  segment += static_cast<char>(len & 0xFF);
  return jpeg.substr(0, 2) + segment + app1 + jpeg.substr(2);
}

TEST(ImageTest, AppliesExifOrientation) {
  const std::string plain = Encode(Marker(), ".jpg");
  auto upright = DecodeImage(WithExifOrientation(plain, 1), {});
  ASSERT_TRUE(upright.ok()) << upright.status().ToString();
  EXPECT_EQ(upright->cols, 40);
  // Orientation 6: the stored picture must be turned 90 degrees clockwise.
  auto rotated = DecodeImage(WithExifOrientation(plain, 6), {});
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->cols, 20);
  EXPECT_EQ(rotated->rows, 40);
  // Red (left) ends up on top after a clockwise turn.
  const cv::Vec3b top = rotated->at<cv::Vec3b>(5, 10), bottom = rotated->at<cv::Vec3b>(35, 10);
  EXPECT_GT(top[2], 200);
  EXPECT_GT(bottom[0], 200);
}

TEST(ImageTest, RefusesEmptyNonImageAndTruncated) {
  auto empty = DecodeImage("", {}, "e.jpg");
  EXPECT_EQ(empty.status().code(), Code::kBadInput);
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);

  auto text = DecodeImage("hello, this is not a picture at all", {}, "t.jpg");
  EXPECT_EQ(text.status().code(), Code::kBadInput);
  EXPECT_NE(text.status().message().find("not an image"), std::string::npos);

  const std::string jpeg = ReadFile(Face("lfw/Abdullah_Gul/Abdullah_Gul_0001.jpg"));
  for (size_t cut : {size_t{10}, jpeg.size() / 3, jpeg.size() - 2}) {
    auto r = DecodeImage(jpeg.substr(0, cut), {}, "cut.jpg");
    EXPECT_EQ(r.status().code(), Code::kBadInput) << "cut at " << cut;
    EXPECT_NE(r.status().message().find("cut.jpg"), std::string::npos);
  }
  const std::string png = ReadFile(Face("people/bbt/amy/amy1.png"));
  auto cut_png = DecodeImage(png.substr(0, png.size() / 2), {}, "cut.png");
  EXPECT_EQ(cut_png.status().code(), Code::kBadInput);

  // Right header, garbage body: libjpeg decodes what it can, so either a clear
  // bad_input or an image of the header's size, never a crash or another code.
  std::string garbled = jpeg;
  for (size_t i = 700; i < garbled.size() - 2; ++i) garbled[i] = static_cast<char>(i * 31);
  ::testing::internal::CaptureStderr();
  auto g = DecodeImage(garbled, {}, "garbled.jpg");
  // libjpeg's "Corrupt JPEG data" warnings must not reach stderr (issue 12).
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  if (g.ok()) {
    EXPECT_EQ(g->cols, 250);
    EXPECT_EQ(g->rows, 250);
    EXPECT_EQ(g->type(), CV_8UC3);
  } else {
    EXPECT_EQ(g.status().code(), Code::kBadInput);
    EXPECT_NE(g.status().message().find("garbled.jpg"), std::string::npos);
  }
}

TEST(ImageTest, RefusesOversizedBeforeDecoding) {
  const std::string jpeg = ReadFile(Face("lfw/Abdullah_Gul/Abdullah_Gul_0001.jpg"));
  ImageLimits small_bytes{1000, 40'000'000};
  EXPECT_EQ(DecodeImage(jpeg, small_bytes).status().code(), Code::kResourceExhausted);
  ImageLimits small_pixels{20'000'000, 250 * 249};
  EXPECT_EQ(DecodeImage(jpeg, small_pixels).status().code(), Code::kResourceExhausted);

  // A PNG whose header claims 100000 x 100000 pixels (a decompression bomb) is
  // refused from the header alone.
  std::string png = Encode(cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)), ".png");
  const uint32_t huge = 100000;
  for (int i = 0; i < 4; ++i) {
    png[16 + i] = static_cast<char>(huge >> (24 - 8 * i));
    png[20 + i] = static_cast<char>(huge >> (24 - 8 * i));
  }
  auto bomb = DecodeImage(png, {});
  EXPECT_EQ(bomb.status().code(), Code::kResourceExhausted);
  EXPECT_NE(bomb.status().message().find("100000x100000"), std::string::npos);
}

// Issue 12: a WebP header with "DICM" at offset 128 reached OpenCV's DICOM decoder
// (GDCM), which aborted the process; a longer one made it allocate 3.5 GB.
TEST(ImageTest, WebpWithDicomMagicIsBadInputNotAnAbort) {
  for (const std::string& bytes : {testing::WebpWithDicomMagic(), testing::WebpWithDicomImage()}) {
    ::testing::internal::CaptureStderr();
    auto r = DecodeImage(bytes, {}, "x.webp");
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    EXPECT_EQ(r.status().code(), Code::kBadInput) << bytes.size() << " bytes";
    EXPECT_NE(r.status().message().find("x.webp"), std::string::npos);
  }
}

// Issue 12: with ImageWidth given twice the probe read the last (1) and libtiff
// decoded the first (20000 x 20000 pixels, 1.4 GB). The limit now holds on the
// size the decoder reports.
TEST(ImageTest, TiffWithWidthTwiceIsRefusedOnTheDecodersSize) {
  const std::string bomb = testing::TiffWithWidthTwice(20000, 20000);
  auto r = DecodeImage(bomb, {}, "w.tiff");
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted) << r.status().ToString();
  EXPECT_NE(r.status().message().find("20000x20000"), std::string::npos);
  // The decoder checks on its own too, whatever the probe said.
  auto direct = codecs::DecodeTiff(bomb, 40'000'000, "w.tiff");
  EXPECT_EQ(direct.status().code(), Code::kResourceExhausted);
  // Within the limit the same layout decodes, at the first width.
  auto small = DecodeImage(testing::TiffWithWidthTwice(16, 1), {}, "s.tiff");
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->cols, 16);
  EXPECT_EQ(small->rows, 1);
}

// Each format goes to its own decoder only: another format's bytes are refused.
TEST(ImageTest, EachDecoderRefusesOtherFormats) {
  using Decoder = Result<cv::Mat> (*)(std::string_view, int64_t, const std::string&);
  const std::pair<std::string, Decoder> decoders[] = {
      {".jpg", codecs::DecodeJpeg},  {".png", codecs::DecodePng},   {".bmp", codecs::DecodeBmp},
      {".webp", codecs::DecodeWebp}, {".tiff", codecs::DecodeTiff},
  };
  for (const auto& [own, decode] : decoders) {
    for (const auto& [other, unused] : decoders) {
      auto r = decode(Encode(Marker(), other), 40'000'000, "m" + other);
      if (own == other) {
        ASSERT_TRUE(r.ok()) << own << ": " << r.status().ToString();
        EXPECT_EQ(r->size(), cv::Size(40, 20));
        const cv::Vec3b left = r->at<cv::Vec3b>(10, 5), right = r->at<cv::Vec3b>(10, 35);
        EXPECT_GT(left[2], 200) << own;  // red stays red: BGR order is right
        EXPECT_GT(right[0], 200) << own;
      } else {
        EXPECT_EQ(r.status().code(), Code::kBadInput) << own << " given " << other;
      }
    }
    // The pixel limit is checked on the size the decoder reports.
    EXPECT_EQ(decode(Encode(Marker(), own), 40 * 20 - 1, "m").status().code(),
              Code::kResourceExhausted)
        << own;
  }
}

TEST(ImageTest, GreyJpegComesOutBgr) {
  auto r = DecodeImage(Encode(cv::Mat(8, 8, CV_8UC1, cv::Scalar(90)), ".jpg"), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type(), CV_8UC3);
}

TEST(ImageTest, EveryExifOrientationIsApplied) {
  const std::string plain = Encode(Marker(), ".jpg");
  // Where the red (stored left) half ends up, and whether width and height swap.
  struct Case {
    int orientation;
    bool swapped;
    cv::Point red, blue;
  };
  for (const Case c : {Case{2, false, {35, 10}, {5, 10}}, Case{3, false, {35, 10}, {5, 10}},
                       Case{4, false, {5, 10}, {35, 10}}, Case{5, true, {10, 5}, {10, 35}},
                       Case{6, true, {10, 5}, {10, 35}}, Case{7, true, {10, 35}, {10, 5}},
                       Case{8, true, {10, 35}, {10, 5}}}) {
    auto r = DecodeImage(WithExifOrientation(plain, c.orientation), {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->cols, c.swapped ? 20 : 40) << c.orientation;
    EXPECT_GT(r->at<cv::Vec3b>(c.red)[2], 200) << c.orientation;
    EXPECT_GT(r->at<cv::Vec3b>(c.blue)[0], 200) << c.orientation;
  }
}

TEST(ImageTest, FileErrors) {
  testing::TempDir dir;
  EXPECT_EQ(ReadImageFile(dir / "missing.jpg", {}).status().code(), Code::kNotFound);
  EXPECT_EQ(ReadImageFile(dir.path(), {}).status().code(), Code::kBadInput);
}

TEST(ImageTest, AtomicWriteAndSha256) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "sub/x.bin", "abc").ok());
  EXPECT_EQ(ReadFile(dir / "sub/x.bin"), "abc");
  ASSERT_TRUE(WriteFileAtomic(dir / "sub/x.bin", "replaced").ok());
  EXPECT_EQ(ReadFile(dir / "sub/x.bin"), "replaced");
  EXPECT_EQ(testing::FilesIn(dir / "sub").size(), 1u);  // no temp file left behind
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// The encoders (libjpeg-turbo and libpng, not OpenCV's imgcodecs): a real
// photo round-trips through faceatt's own decoders, OpenCV's decoder reads the
// files too, and images they cannot encode are refused.
TEST(ImageTest, EncodersRoundTripRealPhotos) {
  auto photo = ReadImageFile(Face("lfw/Abdullah_Gul/Abdullah_Gul_0001.jpg"), {});
  ASSERT_TRUE(photo.ok()) << photo.status().ToString();

  auto png = EncodePng(*photo);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  auto back = DecodeImage(*png, {}, "round.png");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(cv::norm(*photo, *back, cv::NORM_INF), 0) << "PNG is lossless";
  cv::Mat by_opencv = cv::imdecode(std::vector<uchar>(png->begin(), png->end()), cv::IMREAD_COLOR);
  EXPECT_EQ(cv::norm(*photo, by_opencv, cv::NORM_INF), 0);

  for (int quality : {50, 90}) {
    auto jpeg = EncodeJpeg(*photo, quality);
    ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
    auto decoded = DecodeImage(*jpeg, {}, "round.jpg");
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ASSERT_EQ(decoded->size(), photo->size());
    EXPECT_GT(cv::PSNR(*photo, *decoded), quality == 90 ? 33 : 28) << "quality " << quality;
    cv::Mat other = cv::imdecode(std::vector<uchar>(jpeg->begin(), jpeg->end()), cv::IMREAD_COLOR);
    EXPECT_EQ(other.size(), photo->size());
  }
  EXPECT_LT(EncodeJpeg(*photo, 50)->size(), EncodeJpeg(*photo, 90)->size());
}

TEST(ImageTest, EncodersTakeGreyAndAlphaAndRefuseOtherTypes) {
  cv::Mat grey;
  cv::cvtColor(Marker(), grey, cv::COLOR_BGR2GRAY);
  auto png = EncodePng(grey);
  ASSERT_TRUE(png.ok());
  cv::Mat grey_back =
      cv::imdecode(std::vector<uchar>(png->begin(), png->end()), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(grey_back.channels(), 1);
  EXPECT_EQ(cv::norm(grey, grey_back, cv::NORM_INF), 0);

  cv::Mat bgra;
  cv::cvtColor(Marker(), bgra, cv::COLOR_BGR2BGRA);
  bgra(cv::Rect(0, 0, 5, 5)).setTo(cv::Scalar(0, 0, 0, 0));
  png = EncodePng(bgra);
  ASSERT_TRUE(png.ok());
  cv::Mat bgra_back =
      cv::imdecode(std::vector<uchar>(png->begin(), png->end()), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(cv::norm(bgra, bgra_back, cv::NORM_INF), 0) << "alpha kept";
  auto jpeg = EncodeJpeg(bgra, 90);
  ASSERT_TRUE(jpeg.ok());
  EXPECT_EQ(DecodeImage(*jpeg, {}, "a.jpg")->channels(), 3);
  auto grey_jpeg = EncodeJpeg(grey, 90);
  ASSERT_TRUE(grey_jpeg.ok());

  for (const cv::Mat& bad : {cv::Mat(), cv::Mat(4, 4, CV_32FC3, cv::Scalar(0.5)),
                             cv::Mat(4, 4, CV_8UC2, cv::Scalar(1))}) {
    EXPECT_EQ(EncodePng(bad).status().code(), Code::kInvalidArgument);
    EXPECT_EQ(EncodeJpeg(bad, 90).status().code(), Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace faceatt
