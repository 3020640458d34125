#include "vision/landmarks.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "faceatt/image.h"
#include "vision/model_cache.h"

namespace faceatt::vision {
namespace {

// The flat file, all numbers little-endian (as on every machine faceatt runs):
//   Header, the key, the initial shape (floats), a CascadeEntry per cascade,
//   then per cascade its anchors (u32), deltas (float x, y), splits and leaves;
//   every part starts on a cache line; the magic again at the very end.
constexpr char kMagic[8] = {'F', 'A', 'L', 'M', 'K', 'C', '0', '2'};
constexpr size_t kAlign = 64;
struct Header {
  char magic[8];
  uint64_t key_len, shape_len, cascades, splits_per_tree, total_size;
};
struct CascadeEntry {
  uint64_t trees, features, anchors_off, deltas_off, splits_off, leaves_off;
};

// Leaves fetched this many trees ahead: enough to cover a memory round trip
// at a few nanoseconds per tree, few enough to stay in the L1 cache.
constexpr size_t kAhead = 8;

void Prefetch(const float* leaf, size_t floats) {
  const char* p = reinterpret_cast<const char*>(leaf);
  for (size_t off = 0; off < floats * sizeof(float); off += 64) __builtin_prefetch(p + off);
}

class Writer {
 public:
  template <typename T>
  void Put(const T& v) {
    Raw(&v, sizeof v);
  }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void Align() { out_.resize((out_.size() + kAlign - 1) / kAlign * kAlign, '\0'); }
  size_t size() const { return out_.size(); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// `count` items of `size` bytes at `off` lie inside `n` bytes, 4-byte aligned.
bool Fits(uint64_t off, uint64_t count, uint64_t size, size_t n) {
  uint64_t bytes = 0;
  return off % 4 == 0 && off <= n && !__builtin_mul_overflow(count, size, &bytes) &&
         bytes <= n - off;
}

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

std::string LandmarkModel::Flatten(const dlib::shape_predictor& sp, const std::string& key) {
  const ShapePredictorParts p = PartsOf(sp);
  const auto& initial = *p.initial_shape;
  const auto& forests = *p.forests;
  const size_t splits = forests.empty() || forests[0].empty() ? 0 : forests[0][0].splits.size();
  if (initial.size() == 0 || p.anchor_idx->size() != forests.size() ||
      p.deltas->size() != forests.size())
    return "";
  for (size_t c = 0; c < forests.size(); ++c) {
    if ((*p.anchor_idx)[c].size() != (*p.deltas)[c].size()) return "";
    for (const auto& tree : forests[c]) {
      if (tree.splits.size() != splits || tree.leaf_values.size() != splits + 1) return "";
      for (const auto& leaf : tree.leaf_values)
        if (leaf.size() != initial.size()) return "";
    }
  }
  Writer w;
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.key_len = key.size();
  h.shape_len = static_cast<uint64_t>(initial.size());
  h.cascades = forests.size();
  h.splits_per_tree = splits;
  w.Put(h);
  w.Raw(key.data(), key.size());
  w.Align();
  w.Raw(&initial(0), initial.size() * sizeof(float));
  w.Align();
  const size_t table = w.size();
  std::vector<CascadeEntry> entries(forests.size());
  w.Raw(entries.data(), entries.size() * sizeof(CascadeEntry));
  w.Align();
  for (size_t c = 0; c < forests.size(); ++c) {
    CascadeEntry& e = entries[c];
    e.trees = forests[c].size();
    e.features = (*p.anchor_idx)[c].size();
    e.anchors_off = w.size();
    for (unsigned long a : (*p.anchor_idx)[c]) w.Put(static_cast<uint32_t>(a));
    w.Align();
    e.deltas_off = w.size();
    for (const auto& d : (*p.deltas)[c]) {
      w.Put(d.x());
      w.Put(d.y());
    }
    w.Align();
    e.splits_off = w.size();
    for (const auto& tree : forests[c])
      for (const auto& s : tree.splits) {
        w.Put(Split{static_cast<uint32_t>(s.idx1), static_cast<uint32_t>(s.idx2), s.thresh});
      }
    w.Align();
    e.leaves_off = w.size();
    for (const auto& tree : forests[c])
      for (const auto& leaf : tree.leaf_values) w.Raw(&leaf(0), leaf.size() * sizeof(float));
    w.Align();
  }
  w.Raw(kMagic, sizeof kMagic);
  std::string& out = w.out();
  std::memcpy(out.data() + table, entries.data(), entries.size() * sizeof(CascadeEntry));
  h.total_size = out.size();
  std::memcpy(out.data(), &h, sizeof h);
  return std::move(out);
}

Result<std::shared_ptr<const LandmarkModel>> LandmarkModel::FromBytes(std::string bytes,
                                                                      const std::string& key) {
  std::shared_ptr<LandmarkModel> m(new LandmarkModel());
  m->owned_ = std::move(bytes);
  m->data_ = m->owned_.data();
  m->size_ = m->owned_.size();
  return Parse(std::move(m), key);
}

Result<std::shared_ptr<const LandmarkModel>> LandmarkModel::Parse(std::shared_ptr<LandmarkModel> m,
                                                                  const std::string& key) {
  const Status bad = Status::Corruption("landmark cache is damaged");
  const char* d = m->data_;
  const size_t n = m->size_;
  Header h{};
  if (n < sizeof h + sizeof kMagic) return bad;
  std::memcpy(&h, d, sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.total_size != n ||
      std::memcmp(d + n - sizeof kMagic, kMagic, sizeof kMagic) != 0 ||
      !Fits(sizeof h, h.key_len, 1, n))
    return bad;
  if (std::string(d + sizeof h, h.key_len) != key)
    return Status::NotFound("landmark cache is for another file");
  auto align = [](uint64_t off) { return (off + kAlign - 1) / kAlign * kAlign; };
  uint64_t off = align(sizeof h + h.key_len);
  if (h.shape_len == 0 || h.shape_len % 2 != 0 || !Fits(off, h.shape_len, sizeof(float), n))
    return bad;
  m->initial_.set_size(static_cast<long>(h.shape_len));
  std::memcpy(&m->initial_(0), d + off, h.shape_len * sizeof(float));
  off = align(off + h.shape_len * sizeof(float));
  if (!Fits(off, h.cascades, sizeof(CascadeEntry), n) || h.splits_per_tree >= (1u << 16))
    return bad;
  const uint64_t parts = h.shape_len / 2, leaves = h.splits_per_tree + 1;
  m->splits_per_tree_ = h.splits_per_tree;
  m->cascades_.resize(h.cascades);
  for (uint64_t c = 0; c < h.cascades; ++c) {
    CascadeEntry e{};
    std::memcpy(&e, d + off + c * sizeof e, sizeof e);
    uint64_t splits = 0, leaf_floats = 0;
    if (e.trees > n || !Fits(e.anchors_off, e.features, sizeof(uint32_t), n) ||
        !Fits(e.deltas_off, e.features, 2 * sizeof(float), n) ||
        __builtin_mul_overflow(e.trees, h.splits_per_tree, &splits) ||
        !Fits(e.splits_off, splits, sizeof(Split), n) ||
        __builtin_mul_overflow(e.trees * leaves, h.shape_len, &leaf_floats) ||
        !Fits(e.leaves_off, leaf_floats, sizeof(float), n))
      return bad;
    Cascade& cascade = m->cascades_[c];
    cascade.trees = e.trees;
    cascade.anchors.resize(e.features);
    cascade.deltas.resize(e.features);
    for (uint64_t i = 0; i < e.features; ++i) {
      uint32_t a = 0;
      float xy[2];
      std::memcpy(&a, d + e.anchors_off + i * sizeof a, sizeof a);
      std::memcpy(xy, d + e.deltas_off + i * sizeof xy, sizeof xy);
      if (a >= parts) return bad;
      cascade.anchors[i] = a;
      cascade.deltas[i] = dlib::vector<float, 2>(xy[0], xy[1]);
    }
    cascade.splits = reinterpret_cast<const Split*>(d + e.splits_off);
    // A split may only name a feature pixel that exists.
    for (uint64_t i = 0; i < splits; ++i)
      if (cascade.splits[i].idx1 >= e.features || cascade.splits[i].idx2 >= e.features) return bad;
    cascade.leaves = reinterpret_cast<const float*>(d + e.leaves_off);
  }
  return std::shared_ptr<const LandmarkModel>(std::move(m));
}

LandmarkModel::~LandmarkModel() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
}

Result<std::shared_ptr<const LandmarkModel>> LandmarkModel::Load(const std::string& path,
                                                                 const std::string& cache_dir) {
  FACEATT_ASSIGN_OR_RETURN(const std::string key, SourceKey(path));
  const std::string cache = cache_dir.empty() ? "" : LandmarkCachePath(path, cache_dir);
  if (!cache.empty()) {
    // Mapped, not read: only the leaves a face needs are ever paged in.
    const int fd = ::open(cache.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        std::shared_ptr<LandmarkModel> m(new LandmarkModel());
        m->mapping_ = p;
        m->data_ = static_cast<const char*>(p);
        m->size_ = static_cast<size_t>(st.st_size);
        auto parsed = Parse(std::move(m), key);
        if (parsed.ok()) {
          ::close(fd);
          return parsed;
        }
      }
    }
    if (fd >= 0) ::close(fd);
  }
  dlib::shape_predictor sp;
  FACEATT_RETURN_IF_ERROR(LoadShapePredictor(path, sp));
  std::string flat = Flatten(sp, key);
  if (flat.empty())
    return Status::BadInput(path +
                            ": a landmark model whose trees differ in depth is not supported");
  // Best effort: a read-only models folder just keeps the slow path.
  if (!cache.empty()) (void)WriteFileAtomic(cache, flat);
  return FromBytes(std::move(flat), key);
}

dlib::full_object_detection LandmarkModel::Predict(const dlib::cv_image<dlib::bgr_pixel>& img,
                                                   const dlib::rectangle& rect) const {
  const size_t shape = static_cast<size_t>(initial_.size());
  const size_t splits = splits_per_tree_;
  dlib::matrix<float, 0, 1> current = initial_;
  std::vector<float> pixels;
  std::vector<const float*> leaves;
  for (const Cascade& c : cascades_) {
    dlib::impl::extract_feature_pixel_values(img, rect, current, initial_, c.anchors, c.deltas,
                                             pixels);
    // Walk every tree of the cascade (dlib's test and child order) ...
    leaves.resize(c.trees);
    for (size_t t = 0; t < c.trees; ++t) {
      const Split* s = c.splits + t * splits;
      size_t i = 0;
      while (i < splits)
        i = pixels[s[i].idx1] - pixels[s[i].idx2] > s[i].thresh ? 2 * i + 1 : 2 * i + 2;
      leaves[t] = c.leaves + (t * (splits + 1) + (i - splits)) * shape;
    }
    // ... then add their leaves in order, each fetched a few trees early.
    for (size_t t = 0; t < std::min(kAhead, leaves.size()); ++t) Prefetch(leaves[t], shape);
    float* sum = &current(0);
    for (size_t t = 0; t < leaves.size(); ++t) {
      if (t + kAhead < leaves.size()) Prefetch(leaves[t + kAhead], shape);
      const float* leaf = leaves[t];
      for (size_t k = 0; k < shape; ++k) sum[k] += leaf[k];
    }
  }
  const dlib::point_transform_affine to_image = dlib::impl::unnormalizing_tform(rect);
  std::vector<dlib::point> points(shape / 2);
  for (size_t i = 0; i < points.size(); ++i) points[i] = to_image(dlib::impl::location(current, i));
  return dlib::full_object_detection(rect, points);
}

}  // namespace faceatt::vision
