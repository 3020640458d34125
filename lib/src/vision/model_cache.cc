#include "vision/model_cache.h"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <sstream>

#include <dlib/revision.h>

#include "faceatt/image.h"

namespace faceatt::vision {
namespace {

// dlib keeps the predictor's parts private and offers only its slow stream
// format. An explicit template instantiation may name private members
// ([temp.spec]/6), which lets this file read and fill them directly.
template <typename Tag, typename Tag::type kMember>
struct Expose {
  friend typename Tag::type MemberOf(Tag) { return kMember; }
};
struct InitialShape {
  using type = dlib::matrix<float, 0, 1> dlib::shape_predictor::*;
  friend type MemberOf(InitialShape);
};
struct Forests {
  using type = std::vector<std::vector<dlib::impl::regression_tree>> dlib::shape_predictor::*;
  friend type MemberOf(Forests);
};
struct AnchorIdx {
  using type = std::vector<std::vector<unsigned long>> dlib::shape_predictor::*;
  friend type MemberOf(AnchorIdx);
};
struct Deltas {
  using type = std::vector<std::vector<dlib::vector<float, 2>>> dlib::shape_predictor::*;
  friend type MemberOf(Deltas);
};
template struct Expose<InitialShape, &dlib::shape_predictor::initial_shape>;
template struct Expose<Forests, &dlib::shape_predictor::forests>;
template struct Expose<AnchorIdx, &dlib::shape_predictor::anchor_idx>;
template struct Expose<Deltas, &dlib::shape_predictor::deltas>;

constexpr char kMagic[8] = {'F', 'A', 'L', 'M', 'K', 'C', '0', '1'};

class Writer {
 public:
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void F32(float v) { Raw(&v, sizeof v); }
  void Floats(const float* p, size_t n) { Raw(p, n * sizeof(float)); }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& in) : p_(in.data()), end_(in.data() + in.size()) {}
  bool U64(uint64_t& v) { return Raw(&v, sizeof v); }
  bool F32(float& v) { return Raw(&v, sizeof v); }
  bool Floats(float* p, size_t n) {
    return n <= Left() / sizeof(float) && Raw(p, n * sizeof(float));
  }
  // A count that cannot exceed what is left to read at `min_bytes` each.
  bool Count(uint64_t& n, size_t min_bytes) {
    return U64(n) && n <= Left() / std::max<size_t>(min_bytes, 1);
  }
  bool Raw(void* p, size_t n) {
    if (n > Left()) return false;
    std::memcpy(p, p_, n);
    p_ += n;
    return true;
  }
  size_t Left() const { return static_cast<size_t>(end_ - p_); }

 private:
  const char* p_;
  const char* end_;
};

// Size and modification time of the source: a replaced model file misses the cache.
Result<std::string> SourceKey(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound("model file " + path + " not found");
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

std::string LandmarkCachePath(const std::string& path, const std::string& cache_dir) {
  return cache_dir + "/." + std::filesystem::path(path).filename().string() + ".faceatt-cache";
}

std::string EncodeShapePredictor(const dlib::shape_predictor& sp, const std::string& key) {
  const auto& initial = sp.*MemberOf(InitialShape{});
  const auto& forests = sp.*MemberOf(Forests{});
  const auto& anchors = sp.*MemberOf(AnchorIdx{});
  const auto& deltas = sp.*MemberOf(Deltas{});
  Writer w;
  w.Raw(kMagic, sizeof kMagic);
  w.U64(key.size());
  w.Raw(key.data(), key.size());
  w.U64(static_cast<uint64_t>(initial.size()));
  w.Floats(&initial(0), static_cast<size_t>(initial.size()));
  w.U64(forests.size());
  for (const auto& forest : forests) {
    w.U64(forest.size());
    for (const auto& tree : forest) {
      w.U64(tree.splits.size());
      for (const auto& s : tree.splits) {
        w.U64(s.idx1);
        w.U64(s.idx2);
        w.F32(s.thresh);
      }
      w.U64(tree.leaf_values.size());
      for (const auto& leaf : tree.leaf_values) {
        w.U64(static_cast<uint64_t>(leaf.size()));
        if (leaf.size() > 0) w.Floats(&leaf(0), static_cast<size_t>(leaf.size()));
      }
    }
  }
  w.U64(anchors.size());
  for (size_t c = 0; c < anchors.size(); ++c) {
    w.U64(anchors[c].size());
    for (unsigned long a : anchors[c]) w.U64(a);
    w.U64(deltas[c].size());
    for (const auto& d : deltas[c]) {
      w.F32(d.x());
      w.F32(d.y());
    }
  }
  w.Raw(kMagic, sizeof kMagic);
  return std::move(w.out());
}

Status DecodeShapePredictor(const std::string& bytes, const std::string& key,
                            dlib::shape_predictor& out) {
  const Status bad = Status::Corruption("landmark cache is damaged");
  Reader r(bytes);
  char magic[sizeof kMagic];
  uint64_t n = 0;
  if (!r.Raw(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) return bad;
  if (!r.Count(n, 1)) return bad;
  std::string stored_key(n, '\0');
  if (!r.Raw(stored_key.data(), n)) return bad;
  if (stored_key != key) return Status::NotFound("landmark cache is for another file");

  dlib::shape_predictor sp;
  auto& initial = sp.*MemberOf(InitialShape{});
  auto& forests = sp.*MemberOf(Forests{});
  auto& anchors = sp.*MemberOf(AnchorIdx{});
  auto& deltas = sp.*MemberOf(Deltas{});
  if (!r.Count(n, sizeof(float)) || n == 0 || n % 2 != 0) return bad;
  initial.set_size(static_cast<long>(n));
  if (!r.Floats(&initial(0), n)) return bad;
  if (!r.Count(n, 8)) return bad;
  forests.resize(n);
  for (auto& forest : forests) {
    if (!r.Count(n, 8)) return bad;
    forest.resize(n);
    for (auto& tree : forest) {
      if (!r.Count(n, 20)) return bad;
      tree.splits.resize(n);
      for (auto& s : tree.splits) {
        uint64_t i1 = 0, i2 = 0;
        if (!r.U64(i1) || !r.U64(i2) || !r.F32(s.thresh)) return bad;
        s.idx1 = i1;
        s.idx2 = i2;
      }
      if (!r.Count(n, 8)) return bad;
      tree.leaf_values.resize(n);
      for (auto& leaf : tree.leaf_values) {
        // Every leaf moves every landmark: its length is the shape's.
        if (!r.U64(n) || n != static_cast<uint64_t>(initial.size())) return bad;
        leaf.set_size(static_cast<long>(n));
        if (!r.Floats(&leaf(0), n)) return bad;
      }
      // A split may only name a feature pixel and a leaf index that exist.
      if (tree.leaf_values.size() != tree.splits.size() + 1) return bad;
    }
  }
  if (!r.Count(n, 16) || n != forests.size()) return bad;
  anchors.resize(n);
  deltas.resize(n);
  const uint64_t parts = static_cast<uint64_t>(initial.size()) / 2;
  for (size_t c = 0; c < anchors.size(); ++c) {
    if (!r.Count(n, 8)) return bad;
    anchors[c].resize(n);
    for (auto& a : anchors[c]) {
      uint64_t v = 0;
      if (!r.U64(v) || v >= parts) return bad;
      a = v;
    }
    if (!r.Count(n, 8) || n != anchors[c].size()) return bad;
    deltas[c].resize(n);
    for (auto& d : deltas[c]) {
      float x = 0, y = 0;
      if (!r.F32(x) || !r.F32(y)) return bad;
      d = dlib::vector<float, 2>(x, y);
    }
    for (const auto& tree : forests[c])
      for (const auto& s : tree.splits)
        if (s.idx1 >= n || s.idx2 >= n) return bad;
  }
  if (!r.Raw(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0 ||
      r.Left() != 0)
    return bad;
  out = std::move(sp);
  return Status::Ok();
}

Status LoadFrontalFaceDetector(const std::string& cache_dir, dlib::frontal_face_detector& out) {
  const std::string version = std::to_string(DLIB_MAJOR_VERSION) + "." +
                              std::to_string(DLIB_MINOR_VERSION) + "." +
                              std::to_string(DLIB_PATCH_VERSION);
  const std::string cache =
      cache_dir.empty() ? ""
                        : cache_dir + "/.hog_frontal_face_detector-" + version + ".faceatt-cache";
  if (!cache.empty()) {
    auto bytes = ReadFileBytes(cache, int64_t{1} << 26);
    if (bytes.ok()) {
      try {
        std::istringstream in(*bytes);
        dlib::deserialize(out, in);
        if (out.num_detectors() > 0 && in.peek() == std::char_traits<char>::eof())
          return Status::Ok();
      } catch (const std::exception&) {
        // Damaged: built again below.
      }
    }
  }
  try {
    out = dlib::get_frontal_face_detector();
    if (!cache.empty()) {
      std::ostringstream bytes;
      dlib::serialize(out, bytes);
      (void)WriteFileAtomic(cache, bytes.str());  // best effort, as for the landmarks
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot build dlib's face detector: ") + e.what());
  }
  return Status::Ok();
}

Status LoadShapePredictor(const std::string& path, const std::string& cache_dir,
                          dlib::shape_predictor& out) {
  FACEATT_ASSIGN_OR_RETURN(const std::string key, SourceKey(path));
  const std::string cache = cache_dir.empty() ? "" : LandmarkCachePath(path, cache_dir);
  if (!cache.empty()) {
    auto bytes = ReadFileBytes(cache, int64_t{1} << 31);
    if (bytes.ok() && DecodeShapePredictor(*bytes, key, out).ok()) return Status::Ok();
  }
  FACEATT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path, int64_t{1} << 31));
  FACEATT_RETURN_IF_ERROR(DeserializeBytes(bytes, out, path, "dlib shape predictor (landmarks)"));
  // Best effort: a read-only models folder just keeps the slow path.
  if (!cache.empty()) (void)WriteFileAtomic(cache, EncodeShapePredictor(out, key));
  return Status::Ok();
}

ShapePredictorParts PartsOf(const dlib::shape_predictor& sp) {
  return {&(sp.*MemberOf(InitialShape{})), &(sp.*MemberOf(Forests{})), &(sp.*MemberOf(AnchorIdx{})),
          &(sp.*MemberOf(Deltas{}))};
}

}  // namespace faceatt::vision
