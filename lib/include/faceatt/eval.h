// Evaluation and calibration: how often the recognizer names the right person,
// the wrong person, or accepts a stranger, and which thresholds to use.
//
// Evaluate(): DIR is a folder-per-person tree. Every photo is analysed (its
// largest usable face); people with at least K+1 usable photos have their first
// K (by file name) enrolled into a temporary in-memory store, the rest of their
// photos are genuine probes; people with fewer are impostors, never enrolled,
// whose photos must come back unknown (as must every photo of `impostors_dir`).
// Each probe is decided by FaceService::Decide, the rule identify and the
// server use; the user's database is never opened.
//
// Calibrate(): from stored embeddings of one model, genuine distances (each
// photo to the mean of its person's other photos) and impostor distances (each
// photo to every other person's mean) give the tolerance for a target 1:N
// impostor-accept rate: with N people enrolled an impostor is accepted when any
// of N comparisons passes, so one comparison may pass with at most
// 1 - (1 - R)^(1/N).
//
// Errors: kInvalidArgument (bad K or rate), kNotFound (missing folder),
// kBadInput (nobody to enroll or nothing to compare), store/model errors as is.
// Thread safety: Evaluate runs `jobs` pipelines in parallel internally; the
// functions are otherwise independent and re-entrant.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "faceatt/config.h"
#include "faceatt/gallery.h"
#include "faceatt/pipeline.h"
#include "faceatt/status.h"
#include "faceatt/store.h"

namespace faceatt {

struct EvalOptions {
  int enroll_per_person = 3;  // K
  std::string impostors_dir;  // extra photos of people never enrolled ("" = none)
  int jobs = 1;               // pipelines in parallel
  // Called after each analysed photo (from worker threads, serialised).
  std::function<void(size_t done, size_t total)> progress;
};

// One photo identified against the gallery.
struct ProbeScore {
  std::string image;
  std::string person;     // the folder it came from
  bool enrolled = false;  // true: a genuine probe; false: an impostor
  std::string best;       // nearest enrolled person
  float best_distance = -1;
  float second_distance = -1;  // next-best other person (-1 when none)
  float own_distance = -1;     // to the person's own mean (genuine probes only)
  bool accepted = false;       // the decision at the current tolerance and margin
  std::string accepted_as;     // who it was accepted as
};

// The correct-accept rate at the tolerance giving an impostor-accept rate.
struct OperatingPoint {
  double target_far = 0;  // 0.001, 0.01, 0.05
  double tolerance = 0;
  double far = 0;                   // impostor-accept rate reached
  double car = 0;                   // correct-accept rate of genuine probes
  bool bounded_by_samples = false;  // fewer than 1/target impostor probes: no
                                    // impostor may pass, the rate is an upper bound
};

struct EvalReport {
  std::string model_id;
  int enroll_per_person = 0;
  size_t people_enrolled = 0;
  size_t enrolled_photos = 0;
  size_t impostor_people = 0;
  size_t genuine_probes = 0;
  size_t impostor_probes = 0;
  size_t unusable_photos = 0;  // no face or bad quality (neither enrolled nor probed)
  double tolerance = 0;
  double margin = 0;
  MatchMode mode = MatchMode::kMean;
  double rank1 = 0;                 // genuine probes whose nearest person is right
  double correct_accept_rate = 0;   // genuine probes accepted as themselves
  double wrong_accept_rate = 0;     // genuine probes accepted as someone else
  double impostor_accept_rate = 0;  // impostor probes accepted as anyone
  std::vector<OperatingPoint> points;
  std::vector<float> genuine_distances;   // each genuine probe to its own mean
  std::vector<float> impostor_distances;  // each impostor probe to its nearest person
  std::vector<ProbeScore> probes;
};

// The summary of scored probes at `policy` (also the operating points at
// impostor-accept rates `fars`, keeping the margin).
EvalReport Summarize(std::vector<ProbeScore> probes, const MatchPolicy& policy,
                     const std::vector<double>& fars = {0.001, 0.01, 0.05});

Result<EvalReport> Evaluate(const std::string& dir, const Config& config,
                            std::shared_ptr<const Models> models, const EvalOptions& options);

// A PNG of the genuine and impostor distance histograms with the tolerance marked.
Result<std::string> PlotDistancesPng(const EvalReport& report);

struct CalibrationOptions {
  double target_far = 0.01;  // 1:N impostor-accept rate
  // How much of the correct accepts the suggested margin may cost.
  double margin_cost = 0.01;
  // At most this many photos are used as probes (spread evenly), so a large
  // gallery calibrates in seconds.
  size_t max_probes = 3000;
};

struct Calibration {
  size_t people = 0;
  size_t embeddings = 0;
  size_t genuine_pairs = 0;   // photo vs own mean (people with 2+ photos)
  size_t impostor_pairs = 0;  // photo vs another person's mean
  double genuine_median = 0, genuine_p95 = 0;
  double impostor_median = 0, impostor_p1 = 0;
  double per_comparison_far = 0;  // 1 - (1 - target)^(1/N)
  bool extrapolated = false;      // too few impostor pairs: Gaussian tail of impostors
  double tolerance = 0;           // suggested
  double margin = 0;              // suggested
  double genuine_accept = 0;      // genuine pairs within the tolerance (and margin)
  double observed_far = 0;        // each photo against everyone but its own person
};

Result<Calibration> Calibrate(const std::vector<StoredEmbedding>& embeddings,
                              const CalibrationOptions& options);

}  // namespace faceatt
