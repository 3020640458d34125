// Gallery: every enrolled embedding of one model in one contiguous matrix, and
// the 1:N search that names the person a probe belongs to.
//
// A probe's distance to a person is the distance to that person's mean embedding
// (MatchMode::kMean, the default: it measured better with three enrollment
// photos) or to their nearest embedding (kMin). The best person is accepted when
// that distance is at most `tolerance` AND the next-best other person is at
// least `margin` further away. Search is exact (no approximation): every row is
// compared, with a vectorised kernel (AVX2 when the CPU has it), keeping only the
// best few; 100k people take about a millisecond on one core (docs/benchmarks.md).
//
// Thread safety: const methods may run concurrently; Add/Remove need exclusive
// access (the server swaps in a new Gallery instead of mutating a shared one).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "faceatt/pipeline.h"

namespace faceatt {

enum class MatchMode { kMean, kMin };

struct MatchPolicy {
  double tolerance = 0.6;
  double margin = 0.0;
  MatchMode mode = MatchMode::kMean;
  int top_k = 3;
};

// Fills a policy from config, where 0 / negative values select the model's defaults.
MatchPolicy PolicyFromConfig(const Config& config, const MatchDefaults& defaults);

struct Candidate {
  std::string employee_id;
  float distance = 0;
};

struct Match {
  bool matched = false;
  std::string employee_id;            // the best person ("" when the gallery is empty)
  float distance = -1;                // to the best person; -1 when the gallery is empty
  float second_distance = -1;         // to the next-best other person; -1 when none
  std::string reason;                 // "" when matched; "unknown" or "ambiguous" otherwise
  std::vector<Candidate> candidates;  // best first, at most top_k
};

class Gallery {
 public:
  Gallery() = default;

  // Adds one embedding of a person. Means are recomputed lazily.
  void Add(const std::string& employee_id, const Embedding& embedding);
  // Removes every embedding of a person; returns how many.
  size_t Remove(const std::string& employee_id);

  size_t people() const { return people_.size(); }
  size_t embeddings() const { return owner_.size(); }
  bool Contains(const std::string& employee_id) const { return index_.count(employee_id) > 0; }

  // The 1:N decision for one probe.
  Match Search(const Embedding& probe, const MatchPolicy& policy) const;

  // Distances from the probe to each person (mean or min), unsorted, for
  // evaluation.
  std::vector<Candidate> DistancesToPeople(const Embedding& probe, MatchMode mode) const;

  // A gallery of only the people `keep` accepts (group-scoped identification).
  Gallery Subset(const std::function<bool(const std::string&)>& keep) const;

  // A person's mean embedding (nullopt when unknown).
  std::optional<Embedding> MeanOf(const std::string& employee_id) const;
  const std::vector<std::string>& person_ids() const { return people_; }

 private:
  // Recomputes sums_, counts_ and means_ from the matrix (after Remove).
  void RebuildMeans();

  std::vector<std::string> people_;             // person index -> employee id
  std::unordered_map<std::string, int> index_;  // employee id -> person index
  std::vector<float> matrix_;                   // embeddings, row-major, kEmbeddingDim wide
  std::vector<int> owner_;                      // row -> person index
  // Person means, kept current by Add/Remove (so const methods never write and
  // may run concurrently): sums_ in insertion order, divided by counts_.
  std::vector<float> sums_;
  std::vector<int> counts_;
  std::vector<float> means_;
};

}  // namespace faceatt
