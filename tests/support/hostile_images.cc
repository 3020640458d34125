#include "support/hostile_images.h"

#include <vector>

namespace faceatt::testing {
namespace {

void Le16(std::string& s, uint32_t v) {
  s += static_cast<char>(v & 0xFF);
  s += static_cast<char>((v >> 8) & 0xFF);
}
void Le32(std::string& s, uint32_t v) {
  Le16(s, v & 0xFFFF);
  Le16(s, v >> 16);
}

}  // namespace

std::string WebpWithDicomMagic() {
  std::string b = std::string("RIFF\x0a\0\0\0WEBPVP8 ", 16) + std::string(10, '\0') +
                  std::string("\x20\x00\x20\x00", 4);
  b.resize(128, '\0');
  return b + "DICM";
}

std::string WebpWithDicomImage() {
  std::string b = WebpWithDicomMagic();
  // Explicit-VR little-endian data elements: (group, element, VR, value).
  auto element = [&](uint16_t group, uint16_t tag, const char* vr, const std::string& value) {
    Le16(b, group);
    Le16(b, tag);
    b += vr;
    Le16(b, static_cast<uint32_t>(value.size()));
    b += value;
  };
  std::string us;
  auto u16 = [&](uint32_t v) {
    us.clear();
    Le16(us, v);
    return us;
  };
  element(0x0002, 0x0010, "UI", std::string("1.2.840.10008.1.2.1\0", 20));
  element(0x0028, 0x0002, "US", u16(3));
  element(0x0028, 0x0004, "CS", "RGB ");
  element(0x0028, 0x0010, "US", u16(65535));
  element(0x0028, 0x0011, "US", u16(65535));
  element(0x0028, 0x0100, "US", u16(8));
  element(0x0028, 0x0101, "US", u16(8));
  element(0x0028, 0x0103, "US", u16(0));
  b.resize(243, '\0');
  return b;
}

std::string TiffWithWidthTwice(uint32_t first_width, uint32_t height) {
  struct Entry {
    uint16_t tag, type;
    uint32_t value;
  };
  const uint32_t kData = 8;  // one row of pixel data right after the header
  const std::vector<Entry> entries = {
      {256, 4, first_width}, {256, 4, 1},     {257, 4, height}, {258, 3, 8},      {259, 3, 1},
      {262, 3, 1},           {273, 4, kData}, {277, 3, 1},      {278, 4, height}, {279, 4, 16},
  };
  std::string b("II*\0", 4);
  Le32(b, kData + 16);  // IFD after 16 bytes of pixels
  b += std::string(16, '\x80');
  Le16(b, static_cast<uint32_t>(entries.size()));
  for (const Entry& e : entries) {
    Le16(b, e.tag);
    Le16(b, e.type);
    Le32(b, 1);
    if (e.type == 3) {
      Le16(b, e.value);
      Le16(b, 0);
    } else {
      Le32(b, e.value);
    }
  }
  Le32(b, 0);
  return b;
}

}  // namespace faceatt::testing
