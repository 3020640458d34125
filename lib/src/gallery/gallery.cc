#include "faceatt/gallery.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace faceatt {
namespace {

// Squared Euclidean distances from `probe` to `rows` consecutive rows of
// `matrix`, into `out`. Sixteen partial sums per row let the compiler keep the
// whole row in vector registers without reordering a single sum (no fast-math
// needed); target_clones picks the AVX2/FMA build at load time when the CPU has
// it and the baseline SSE2 build otherwise. This loop is the whole cost of a
// search: one pass over the matrix, bound by memory bandwidth at 1M rows.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void SquaredDistances(const float* __restrict probe, const float* __restrict matrix, size_t rows,
                      float* __restrict out) {
  constexpr int kLanes = 16;
  static_assert(kEmbeddingDim % kLanes == 0);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = matrix + r * kEmbeddingDim;
    float acc[kLanes] = {};
    for (int i = 0; i < kEmbeddingDim; i += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        const float d = probe[i + j] - row[i + j];
        acc[j] += d * d;
      }
    float sum = 0;
    for (int j = 0; j < kLanes; ++j) sum += acc[j];
    out[r] = sum;
  }
}

// Rows are processed in blocks so the distances stay in L1 between the kernel
// and the bookkeeping that consumes them.
constexpr size_t kBlock = 256;

// The k smallest (squared distance, person) pairs seen so far, sorted; k is tiny
// (top_k, at least 2), so insertion into a sorted array beats a heap.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { items_.reserve(k + 1); }
  float worst() const {
    return items_.size() < k_ ? std::numeric_limits<float>::infinity() : items_.back().first;
  }
  void Offer(float d, int person) {
    if (d >= worst()) return;
    auto at =
        std::upper_bound(items_.begin(), items_.end(), d,
                         [](float v, const std::pair<float, int>& it) { return v < it.first; });
    items_.insert(at, {d, person});
    if (items_.size() > k_) items_.pop_back();
  }
  const std::vector<std::pair<float, int>>& items() const { return items_; }

 private:
  size_t k_;
  std::vector<std::pair<float, int>> items_;
};

}  // namespace

MatchPolicy PolicyFromConfig(const Config& config, const MatchDefaults& defaults) {
  MatchPolicy p;
  p.tolerance =
      config.recognition.tolerance > 0 ? config.recognition.tolerance : defaults.tolerance;
  p.margin = config.recognition.margin >= 0 ? config.recognition.margin : defaults.margin;
  p.mode = config.recognition.match == "min" ? MatchMode::kMin : MatchMode::kMean;
  p.top_k = config.recognition.top_k;
  return p;
}

void Gallery::Add(const std::string& employee_id, const Embedding& embedding) {
  auto [it, inserted] = index_.emplace(employee_id, static_cast<int>(people_.size()));
  if (inserted) {
    people_.push_back(employee_id);
    sums_.resize(sums_.size() + kEmbeddingDim, 0.f);
    means_.resize(means_.size() + kEmbeddingDim, 0.f);
    counts_.push_back(0);
  }
  const int p = it->second;
  matrix_.insert(matrix_.end(), embedding.begin(), embedding.end());
  owner_.push_back(p);
  float* sum = &sums_[static_cast<size_t>(p) * kEmbeddingDim];
  float* mean = &means_[static_cast<size_t>(p) * kEmbeddingDim];
  const int n = ++counts_[p];
  for (int i = 0; i < kEmbeddingDim; ++i) {
    sum[i] += embedding[i];
    mean[i] = sum[i] / n;
  }
}

size_t Gallery::Remove(const std::string& employee_id) {
  auto it = index_.find(employee_id);
  if (it == index_.end()) return 0;
  const int gone = it->second;
  std::vector<float> matrix;
  std::vector<int> owner;
  size_t removed = 0;
  for (size_t r = 0; r < owner_.size(); ++r) {
    if (owner_[r] == gone) {
      ++removed;
      continue;
    }
    matrix.insert(matrix.end(), matrix_.begin() + r * kEmbeddingDim,
                  matrix_.begin() + (r + 1) * kEmbeddingDim);
    owner.push_back(owner_[r] > gone ? owner_[r] - 1 : owner_[r]);
  }
  matrix_ = std::move(matrix);
  owner_ = std::move(owner);
  people_.erase(people_.begin() + gone);
  index_.clear();
  for (size_t i = 0; i < people_.size(); ++i) index_[people_[i]] = static_cast<int>(i);
  RebuildMeans();
  return removed;
}

Gallery Gallery::Subset(const std::function<bool(const std::string&)>& keep) const {
  Gallery out;
  std::vector<int> new_index(people_.size(), -1);
  for (size_t p = 0; p < people_.size(); ++p) {
    if (!keep(people_[p])) continue;
    new_index[p] = static_cast<int>(out.people_.size());
    out.index_[people_[p]] = new_index[p];
    out.people_.push_back(people_[p]);
  }
  for (size_t r = 0; r < owner_.size(); ++r) {
    if (new_index[owner_[r]] < 0) continue;
    out.matrix_.insert(out.matrix_.end(), matrix_.begin() + r * kEmbeddingDim,
                       matrix_.begin() + (r + 1) * kEmbeddingDim);
    out.owner_.push_back(new_index[owner_[r]]);
  }
  out.RebuildMeans();
  return out;
}

void Gallery::RebuildMeans() {
  sums_.assign(people_.size() * kEmbeddingDim, 0.f);
  means_.assign(people_.size() * kEmbeddingDim, 0.f);
  counts_.assign(people_.size(), 0);
  for (size_t r = 0; r < owner_.size(); ++r) {
    float* s = &sums_[static_cast<size_t>(owner_[r]) * kEmbeddingDim];
    const float* e = &matrix_[r * kEmbeddingDim];
    for (int i = 0; i < kEmbeddingDim; ++i) s[i] += e[i];
    ++counts_[owner_[r]];
  }
  for (size_t p = 0; p < people_.size(); ++p)
    for (int i = 0; i < kEmbeddingDim; ++i)
      means_[p * kEmbeddingDim + i] = sums_[p * kEmbeddingDim + i] / counts_[p];
}

std::optional<Embedding> Gallery::MeanOf(const std::string& employee_id) const {
  auto it = index_.find(employee_id);
  if (it == index_.end()) return std::nullopt;
  Embedding e;
  std::copy_n(&means_[static_cast<size_t>(it->second) * kEmbeddingDim], kEmbeddingDim, e.begin());
  return e;
}

std::vector<Candidate> Gallery::DistancesToPeople(const Embedding& probe, MatchMode mode) const {
  std::vector<float> best(people_.size(), std::numeric_limits<float>::infinity());
  if (mode == MatchMode::kMean) {
    SquaredDistances(probe.data(), means_.data(), people_.size(), best.data());
  } else {
    float block[kBlock];
    for (size_t r0 = 0; r0 < owner_.size(); r0 += kBlock) {
      const size_t n = std::min(kBlock, owner_.size() - r0);
      SquaredDistances(probe.data(), &matrix_[r0 * kEmbeddingDim], n, block);
      for (size_t i = 0; i < n; ++i)
        best[owner_[r0 + i]] = std::min(best[owner_[r0 + i]], block[i]);
    }
  }
  std::vector<Candidate> out(people_.size());
  for (size_t p = 0; p < people_.size(); ++p) out[p] = {people_[p], std::sqrt(best[p])};
  return out;
}

Match Gallery::Search(const Embedding& probe, const MatchPolicy& policy) const {
  Match m;
  if (people_.empty()) {
    m.reason = "unknown";
    return m;
  }
  // Only the best k people are kept: no per-person strings or full sort.
  TopK top(static_cast<size_t>(std::max(policy.top_k, 2)));
  float block[kBlock];
  if (policy.mode == MatchMode::kMean) {
    for (size_t p0 = 0; p0 < people_.size(); p0 += kBlock) {
      const size_t n = std::min(kBlock, people_.size() - p0);
      SquaredDistances(probe.data(), &means_[p0 * kEmbeddingDim], n, block);
      for (size_t i = 0; i < n; ++i)
        if (block[i] < top.worst()) top.Offer(block[i], static_cast<int>(p0 + i));
    }
  } else {
    std::vector<float> best(people_.size(), std::numeric_limits<float>::infinity());
    for (size_t r0 = 0; r0 < owner_.size(); r0 += kBlock) {
      const size_t n = std::min(kBlock, owner_.size() - r0);
      SquaredDistances(probe.data(), &matrix_[r0 * kEmbeddingDim], n, block);
      for (size_t i = 0; i < n; ++i)
        best[owner_[r0 + i]] = std::min(best[owner_[r0 + i]], block[i]);
    }
    for (size_t p = 0; p < people_.size(); ++p)
      if (best[p] < top.worst()) top.Offer(best[p], static_cast<int>(p));
  }
  const auto& items = top.items();
  m.employee_id = people_[items[0].second];
  m.distance = std::sqrt(items[0].first);
  m.second_distance = items.size() > 1 ? std::sqrt(items[1].first) : -1;
  for (size_t i = 0; i < items.size() && i < static_cast<size_t>(std::max(policy.top_k, 0)); ++i)
    m.candidates.push_back({people_[items[i].second], std::sqrt(items[i].first)});
  if (m.distance > policy.tolerance) {
    m.reason = "unknown";
  } else if (m.second_distance >= 0 && m.second_distance - m.distance < policy.margin) {
    m.reason = "ambiguous";
  } else {
    m.matched = true;
  }
  return m;
}

}  // namespace faceatt
