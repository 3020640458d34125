#include "migrate/npy.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <regex>

#include "faceatt/image.h"

namespace faceatt::migrate {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// A face descriptor file holds a few hundred vectors at most; this bounds
// what a corrupt shape can make us allocate.
constexpr int64_t kMaxElements = int64_t{1} << 26;

Status Bad(const std::string& name, const std::string& why) {
  return Status::BadInput(name + ": not a usable .npy file: " + why);
}

bool HostIsLittle() {
  const uint16_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

}  // namespace

Result<NpyArray> ParseNpy(std::string_view bytes, const std::string& name) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != kMagic) return Bad(name, "no NumPy magic");
  const int major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Bad(name, "truncated header");
    for (int i = 3; i >= 0; --i)
      header_len = (header_len << 8) | static_cast<uint8_t>(bytes[8 + i]);
    offset = 12;
  } else {
    return Bad(name, "format version " + std::to_string(major) + " (1 to 3 are read)");
  }
  if (bytes.size() < offset + header_len) return Bad(name, "truncated header");
  const std::string header(bytes.substr(offset, header_len));
  std::smatch m;
  static const std::regex descr_re(R"('descr'\s*:\s*'([<>|=])(f)([48])')");
  static const std::regex fortran_re(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex shape_re(R"('shape'\s*:\s*\(([0-9,\s]*)\))");
  if (!std::regex_search(header, m, descr_re)) {
    static const std::regex any_descr(R"('descr'\s*:\s*'([^']*)')");
    if (std::regex_search(header, m, any_descr))
      return Bad(name, "dtype " + m[1].str() + " (float32 and float64 are read)");
    return Bad(name, "header has no dtype");
  }
  const bool big = m[1] == ">" || (m[1] == "=" && !HostIsLittle());
  const int item = m[3] == "4" ? 4 : 8;
  if (!std::regex_search(header, m, fortran_re)) return Bad(name, "header has no fortran_order");
  const bool fortran = m[1] == "True";
  if (!std::regex_search(header, m, shape_re)) return Bad(name, "header has no shape");
  std::vector<int64_t> shape;
  static const std::regex num_re(R"([0-9]+)");
  const std::string dims = m[1];
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num_re);
       it != std::sregex_iterator(); ++it) {
    if (it->str().size() > 9) return Bad(name, "shape too large");
    shape.push_back(std::stoll(it->str()));
  }
  if (shape.empty() || shape.size() > 2)
    return Bad(name, "shape of " + std::to_string(shape.size()) +
                         " dimensions (a vector (n,) or a matrix (rows, n) is read)");
  NpyArray a;
  a.rows = shape.size() == 1 ? 1 : static_cast<int>(shape[0]);
  a.cols = static_cast<int>(shape.back());
  a.dtype = item == 4 ? "float32" : "float64";
  const int64_t count = static_cast<int64_t>(a.rows) * a.cols;
  if (count > kMaxElements) return Bad(name, "shape too large");
  const size_t data_at = offset + header_len;
  const size_t want = static_cast<size_t>(count) * item;
  if (bytes.size() - data_at < want)
    return Bad(name, "truncated: the shape needs " + std::to_string(want) + " bytes of data, " +
                         std::to_string(bytes.size() - data_at) + " are there");
  if (bytes.size() - data_at > want) return Bad(name, "data longer than its shape");
  a.values.resize(count);
  const bool swap = big == HostIsLittle();
  for (int64_t i = 0; i < count; ++i) {
    unsigned char b[8];
    std::memcpy(b, bytes.data() + data_at + i * item, item);
    if (swap) std::reverse(b, b + item);
    double v;
    if (item == 4) {
      float f;
      std::memcpy(&f, b, 4);
      v = f;
    } else {
      std::memcpy(&v, b, 8);
    }
    if (!std::isfinite(v)) return Bad(name, "value " + std::to_string(i) + " is not finite");
    // Fortran order stores column after column.
    const int64_t at = fortran ? (i % a.rows) * a.cols + i / a.rows : i;
    a.values[at] = v;
  }
  return a;
}

Result<NpyArray> ReadNpy(const std::string& path) {
  FACEATT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path, int64_t{1} << 30));
  return ParseNpy(bytes, path);
}

std::string EncodeNpy(const std::vector<double>& values, int rows, int cols,
                      const std::string& descr, int version, bool one_d) {
  std::string shape = one_d ? "(" + std::to_string(cols) + ",)"
                            : "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out(kMagic);
  out += static_cast<char>(version);
  out += '\0';
  const uint32_t len = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  out += header;
  const bool big = descr[0] == '>';
  const int item = descr.back() == '4' ? 4 : 8;
  for (double v : values) {
    unsigned char b[8];
    if (item == 4) {
      const float f = static_cast<float>(v);
      std::memcpy(b, &f, 4);
    } else {
      std::memcpy(b, &v, 8);
    }
    if (big == HostIsLittle()) std::reverse(b, b + item);
    out.append(reinterpret_cast<const char*>(b), item);
  }
  return out;
}

}  // namespace faceatt::migrate
