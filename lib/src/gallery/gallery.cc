#include "faceatt/gallery.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace faceatt {
namespace {

// Squared Euclidean distance over one row; written so the compiler vectorises it.
inline float SquaredDistance(const float* a, const float* b) {
  float sum = 0;
  for (int i = 0; i < kEmbeddingDim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

}  // namespace

MatchPolicy PolicyFromConfig(const Config& config, const MatchDefaults& defaults) {
  MatchPolicy p;
  p.tolerance = config.recognition.tolerance > 0 ? config.recognition.tolerance : defaults.tolerance;
  p.margin = config.recognition.margin >= 0 ? config.recognition.margin : defaults.margin;
  p.mode = config.recognition.match == "min" ? MatchMode::kMin : MatchMode::kMean;
  p.top_k = config.recognition.top_k;
  return p;
}

void Gallery::Add(const std::string& employee_id, const Embedding& embedding) {
  auto [it, inserted] = index_.emplace(employee_id, static_cast<int>(people_.size()));
  if (inserted) people_.push_back(employee_id);
  matrix_.insert(matrix_.end(), embedding.begin(), embedding.end());
  owner_.push_back(it->second);
  means_stale_ = true;
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
  means_stale_ = true;
  return removed;
}

void Gallery::RefreshMeans() const {
  if (!means_stale_) return;
  means_.assign(people_.size() * kEmbeddingDim, 0.f);
  std::vector<int> counts(people_.size(), 0);
  for (size_t r = 0; r < owner_.size(); ++r) {
    float* m = &means_[owner_[r] * kEmbeddingDim];
    const float* e = &matrix_[r * kEmbeddingDim];
    for (int i = 0; i < kEmbeddingDim; ++i) m[i] += e[i];
    ++counts[owner_[r]];
  }
  for (size_t p = 0; p < people_.size(); ++p)
    for (int i = 0; i < kEmbeddingDim; ++i) means_[p * kEmbeddingDim + i] /= counts[p];
  means_stale_ = false;
}

std::optional<Embedding> Gallery::MeanOf(const std::string& employee_id) const {
  auto it = index_.find(employee_id);
  if (it == index_.end()) return std::nullopt;
  RefreshMeans();
  Embedding e;
  std::copy_n(&means_[it->second * kEmbeddingDim], kEmbeddingDim, e.begin());
  return e;
}

std::vector<Candidate> Gallery::DistancesToPeople(const Embedding& probe, MatchMode mode) const {
  std::vector<float> best(people_.size(), std::numeric_limits<float>::infinity());
  if (mode == MatchMode::kMean) {
    RefreshMeans();
    for (size_t p = 0; p < people_.size(); ++p)
      best[p] = SquaredDistance(probe.data(), &means_[p * kEmbeddingDim]);
  } else {
    for (size_t r = 0; r < owner_.size(); ++r)
      best[owner_[r]] = std::min(best[owner_[r]], SquaredDistance(probe.data(), &matrix_[r * kEmbeddingDim]));
  }
  std::vector<Candidate> out(people_.size());
  for (size_t p = 0; p < people_.size(); ++p) out[p] = {people_[p], std::sqrt(best[p])};
  return out;
}

Match Gallery::Search(const Embedding& probe, const MatchPolicy& policy) const {
  Match m;
  std::vector<Candidate> all = DistancesToPeople(probe, policy.mode);
  if (all.empty()) {
    m.reason = "unknown";
    return m;
  }
  const size_t k = std::min<size_t>(std::max(policy.top_k, 2), all.size());
  std::partial_sort(all.begin(), all.begin() + k, all.end(),
                    [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; });
  m.employee_id = all[0].employee_id;
  m.distance = all[0].distance;
  m.second_distance = all.size() > 1 ? all[1].distance : -1;
  all.resize(std::min<size_t>(policy.top_k, all.size()));
  m.candidates = std::move(all);
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
