// NumPy's .npy format (versions 1 to 3): the arrays the Python services kept
// their face descriptors in. Only what they wrote is read: float32 or float64
// of either byte order, shape (n,) or (rows, n), C or Fortran order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "faceatt/status.h"

namespace faceatt::migrate {

struct NpyArray {
  int rows = 0;  // 1 for a shape (n,)
  int cols = 0;
  std::string dtype;           // "float32" | "float64"
  std::vector<double> values;  // row-major, rows * cols
  const double* row(int r) const { return values.data() + static_cast<size_t>(r) * cols; }
};

// kBadInput naming `name` and what is wrong (bad magic, unsupported dtype or
// shape, a header that does not parse, data shorter or longer than the shape).
Result<NpyArray> ParseNpy(std::string_view bytes, const std::string& name);
Result<NpyArray> ReadNpy(const std::string& path);

// Writes an array as .npy (tests build their inputs with it): version 1..3,
// dtype "<f4" | "<f8" | ">f4" | ">f8"; one_d writes shape (n,) (rows must be 1).
std::string EncodeNpy(const std::vector<double>& values, int rows, int cols,
                      const std::string& descr, int version, bool one_d = false);

}  // namespace faceatt::migrate
