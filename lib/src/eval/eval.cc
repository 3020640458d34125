#include "faceatt/eval.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <numeric>
#include <queue>
#include <thread>

#include <opencv2/imgproc.hpp>

#include "faceatt/face_service.h"
#include "faceatt/image.h"

namespace faceatt {
namespace {
namespace fs = std::filesystem;

bool IsImageFile(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp" ||
         ext == ".tif" || ext == ".tiff";
}

std::vector<std::string> ImagesIn(const fs::path& dir, bool recursive) {
  std::vector<std::string> out;
  std::error_code ec;
  auto add = [&](const fs::directory_entry& e) {
    if (e.is_regular_file() && IsImageFile(e.path())) out.push_back(e.path().string());
  };
  // increment(ec), not the range-for: an unreadable folder met on the way must
  // not throw out of the library.
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(
             dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      add(*it);
  } else {
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
      add(*it);
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Photo {
  std::string path;
  std::string person;
  bool from_impostor_dir = false;
  bool usable = false;
  Embedding embedding{};
};

// Analyses every photo with `jobs` pipelines; keeps the largest usable face.
Status AnalyzeAll(std::vector<Photo>& photos, const Config& config, const Models& models,
                  const EvalOptions& options) {
  const ImageLimits limits{config.image.max_bytes, config.image.max_pixels};
  const int jobs = std::clamp(options.jobs, 1, 64);
  std::atomic<size_t> next{0}, done{0};
  std::mutex mu;
  Status first_error;
  auto worker = [&] {
    auto pipeline = models.NewPipeline();
    for (size_t i; (i = next++) < photos.size();) {
      Photo& photo = photos[i];
      auto image = ReadImageFile(photo.path, limits);
      if (image.ok()) {
        Result<std::vector<Face>> faces = Status::Internal("not analysed");
        try {  // never std::terminate from a worker thread
          faces = pipeline->Analyze(*image);
        } catch (const std::exception& e) {
          faces = Status::Internal(e.what());
        }
        if (!faces.ok()) {
          std::lock_guard lock(mu);
          if (first_error.ok()) first_error = faces.status().WithPrefix(photo.path);
          next = photos.size();
          return;
        }
        // Largest first: the first face decides, as enroll --largest and a kiosk do.
        if (!faces->empty() && (*faces)[0].has_embedding) {
          photo.usable = true;
          photo.embedding = (*faces)[0].embedding;
        }
      }
      const size_t n = ++done;
      if (options.progress) {
        std::lock_guard lock(mu);
        options.progress(n, photos.size());
      }
    }
  };
  if (jobs > 1) SetComputeThreads(1);
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return first_error;
}

// Whether a probe with these distances passes tolerance t and margin m.
bool Passes(float best, float second, double t, double m) {
  return best >= 0 && best <= t && (second < 0 || second - best >= m);
}

double Ratio(size_t a, size_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / b; }

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9).
double NormalQuantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549671010243303e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  const double low = 0.02425;
  if (p < low) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -NormalQuantile(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

}  // namespace

EvalReport Summarize(std::vector<ProbeScore> probes, const MatchPolicy& policy,
                     const std::vector<double>& fars) {
  EvalReport r;
  r.tolerance = policy.tolerance;
  r.margin = policy.margin;
  r.mode = policy.mode;
  size_t rank1 = 0, correct = 0, wrong = 0, impostor_accepts = 0;
  // Tolerances at which each impostor would start to pass (the margin does not
  // depend on the tolerance, so an impostor failing it never passes).
  std::vector<float> impostor_pass_at;
  for (const ProbeScore& p : probes) {
    if (p.enrolled) {
      ++r.genuine_probes;
      if (p.best == p.person) ++rank1;
      if (p.accepted) (p.accepted_as == p.person ? correct : wrong)++;
      if (p.own_distance >= 0) r.genuine_distances.push_back(p.own_distance);
    } else {
      ++r.impostor_probes;
      if (p.accepted) ++impostor_accepts;
      if (p.best_distance >= 0) r.impostor_distances.push_back(p.best_distance);
      if (p.best_distance >= 0 &&
          (p.second_distance < 0 || p.second_distance - p.best_distance >= policy.margin))
        impostor_pass_at.push_back(p.best_distance);
    }
  }
  r.rank1 = Ratio(rank1, r.genuine_probes);
  r.correct_accept_rate = Ratio(correct, r.genuine_probes);
  r.wrong_accept_rate = Ratio(wrong, r.genuine_probes);
  r.impostor_accept_rate = Ratio(impostor_accepts, r.impostor_probes);

  std::sort(impostor_pass_at.begin(), impostor_pass_at.end());
  for (double far : fars) {
    OperatingPoint op;
    op.target_far = far;
    if (r.impostor_probes == 0) continue;
    // The most impostors allowed through; the tolerance sits halfway between the
    // last one allowed and the first one refused.
    const size_t allowed = static_cast<size_t>(std::floor(far * r.impostor_probes + 1e-9));
    op.bounded_by_samples = allowed == 0;
    if (allowed >= impostor_pass_at.size()) {
      op.tolerance = impostor_pass_at.empty() ? 2.0 : impostor_pass_at.back() + 0.01;
    } else {
      const double refused = impostor_pass_at[allowed];
      const double last =
          allowed > 0 ? impostor_pass_at[allowed - 1] : std::max(0.0, refused - 0.01);
      op.tolerance = (last + refused) / 2;
      if (op.tolerance >= refused) op.tolerance = std::nextafter(refused, 0.0);
    }
    size_t through = 0, car = 0;
    for (const ProbeScore& p : probes) {
      const bool pass = Passes(p.best_distance, p.second_distance, op.tolerance, policy.margin);
      if (!p.enrolled)
        through += pass;
      else
        car += pass && p.best == p.person;
    }
    op.far = Ratio(through, r.impostor_probes);
    op.car = Ratio(car, r.genuine_probes);
    r.points.push_back(op);
  }
  r.probes = std::move(probes);
  return r;
}

Result<EvalReport> Evaluate(const std::string& dir, const Config& config,
                            std::shared_ptr<const Models> models, const EvalOptions& options) {
  if (options.enroll_per_person < 1) return Status::InvalidArgument("--enroll must be at least 1");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir + ": no such folder");
  if (!options.impostors_dir.empty() && !fs::is_directory(options.impostors_dir, ec))
    return Status::NotFound(options.impostors_dir + ": no such folder");

  std::vector<Photo> photos;
  std::vector<std::string> people;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    if (it->is_directory(ec)) people.push_back(it->path().filename().string());
  if (ec) return Status::IoError(dir + ": " + ec.message());
  std::sort(people.begin(), people.end());
  for (const auto& person : people)
    for (auto& path : ImagesIn(fs::path(dir) / person, /*recursive=*/false))
      photos.push_back({std::move(path), person, false});
  if (!options.impostors_dir.empty()) {
    const fs::path root = fs::absolute(options.impostors_dir, ec);
    for (auto& path : ImagesIn(options.impostors_dir, /*recursive=*/true)) {
      // Labelled by their path, so they can never share a name with an enrolled person.
      std::string label =
          "impostor:" + fs::path(path).lexically_relative(options.impostors_dir).string();
      photos.push_back({std::move(path), std::move(label), true});
    }
  }
  if (photos.empty()) return Status::BadInput(dir + ": no photos in person folders");
  FACEATT_RETURN_IF_ERROR(AnalyzeAll(photos, config, *models, options));

  // Enroll the first K usable photos of everyone with at least K+1.
  std::map<std::string, std::vector<const Photo*>> usable;
  size_t unusable = 0;
  for (const Photo& p : photos) {
    if (p.usable)
      usable[p.person].push_back(&p);
    else
      ++unusable;
  }
  const size_t k = static_cast<size_t>(options.enroll_per_person);
  StoreOptions store_options;
  store_options.path = ":memory:";
  FACEATT_ASSIGN_OR_RETURN(auto store, OpenSqliteStore(store_options));
  std::map<std::string, std::string> id_of, person_of;  // person <-> employee id
  std::map<const Photo*, bool> enrolled_photo;
  size_t enrolled_photos = 0, impostor_people = 0;
  for (const auto& [person, list] : usable) {
    const bool from_impostors = list.front()->from_impostor_dir;
    if (from_impostors) continue;
    if (list.size() < k + 1) {
      ++impostor_people;
      continue;
    }
    char id[16];
    std::snprintf(id, sizeof id, "P%05zu", id_of.size() + 1);
    std::vector<StoredEmbedding> rows;
    for (size_t i = 0; i < k; ++i) {
      StoredEmbedding e;
      e.model_id = models->model_id();
      e.vector = list[i]->embedding;
      e.source_path = list[i]->path;
      rows.push_back(e);
      enrolled_photo[list[i]] = true;
    }
    FACEATT_RETURN_IF_ERROR(store->CreateUser(NewUser{id, person.substr(0, 200), ""}, rows));
    id_of[person] = id;
    person_of[id] = person;
    enrolled_photos += k;
  }
  if (id_of.empty())
    return Status::BadInput(dir + ": nobody has " + std::to_string(k + 1) +
                            " usable photos (K to enroll and one to identify); lower --enroll");

  // The real decision rule over the temporary store. The data folder is only a
  // name here: nothing is written (no enrollment goes through the service).
  FACEATT_ASSIGN_OR_RETURN(
      auto service,
      FaceService::Open(config, models, store.get(), DataDir(fs::temp_directory_path().string())));
  const Gallery gallery = service->SnapshotGallery();
  const MatchPolicy policy = service->policy();
  std::vector<ProbeScore> scores;
  for (const Photo& p : photos) {
    if (!p.usable || enrolled_photo.count(&p)) continue;
    ProbeScore s;
    s.image = p.path;
    s.person = p.person;
    auto id = id_of.find(p.person);
    s.enrolled = id != id_of.end();
    std::vector<Candidate> all = gallery.DistancesToPeople(p.embedding, policy.mode);
    const size_t top = std::min<size_t>(2, all.size());
    std::partial_sort(
        all.begin(), all.begin() + top, all.end(),
        [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; });
    s.best = person_of[all[0].employee_id];
    s.best_distance = all[0].distance;
    s.second_distance = all.size() > 1 ? all[1].distance : -1;
    if (s.enrolled) {
      for (const Candidate& c : all)
        if (c.employee_id == id->second) s.own_distance = c.distance;
    }
    FaceIdentity decision = service->Decide(p.embedding);
    s.accepted = decision.matched;
    s.accepted_as = decision.matched ? person_of[decision.employee_id] : "";
    scores.push_back(std::move(s));
  }
  EvalReport report = Summarize(std::move(scores), policy);
  report.model_id = models->model_id();
  report.enroll_per_person = options.enroll_per_person;
  report.people_enrolled = id_of.size();
  report.enrolled_photos = enrolled_photos;
  report.impostor_people = impostor_people;
  report.unusable_photos = unusable;
  return report;
}

Result<std::string> PlotDistancesPng(const EvalReport& report) {
  const int width = 900, height = 420, left = 60, right = 20, top = 40, bottom = 50;
  // 0 to the largest distance seen (at least 1.0), rounded up to a tenth.
  float largest = 1.0f;
  for (float d : report.genuine_distances) largest = std::max(largest, d);
  for (float d : report.impostor_distances) largest = std::max(largest, d);
  const double lo = 0.0, hi = std::ceil(largest * 10 - 1e-6) / 10, bin = 0.02;
  const int bins = static_cast<int>(std::lround((hi - lo) / bin));
  auto histogram = [&](const std::vector<float>& v) {
    std::vector<double> h(bins, 0);
    for (float d : v) h[std::clamp(static_cast<int>((d - lo) / bin), 0, bins - 1)] += 1;
    for (double& x : h) x = v.empty() ? 0 : x / v.size();  // fractions: both curves comparable
    return h;
  };
  const auto genuine = histogram(report.genuine_distances);
  const auto impostor = histogram(report.impostor_distances);
  const double peak = std::max(*std::max_element(genuine.begin(), genuine.end()),
                               *std::max_element(impostor.begin(), impostor.end()));
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const int plot_w = width - left - right, plot_h = height - top - bottom;
  auto x_of = [&](double d) { return left + static_cast<int>((d - lo) / (hi - lo) * plot_w); };
  auto y_of = [&](double f) {
    return top + plot_h - static_cast<int>(peak > 0 ? f / peak * plot_h : 0);
  };
  auto draw = [&](const std::vector<double>& h, const cv::Scalar& colour) {
    for (int b = 0; b < bins; ++b) {
      cv::Rect r(cv::Point(x_of(lo + b * bin) + 1, y_of(h[b])),
                 cv::Point(x_of(lo + (b + 1) * bin), y_of(0)));
      cv::Mat roi = img(r & cv::Rect(0, 0, width, height));
      cv::Mat tint(roi.size(), roi.type(), colour);
      cv::addWeighted(roi, 0.45, tint, 0.55, 0, roi);  // translucent: overlaps stay visible
    }
  };
  draw(genuine, cv::Scalar(60, 160, 40));
  draw(impostor, cv::Scalar(40, 40, 200));
  cv::line(img, {left, top + plot_h}, {left + plot_w, top + plot_h}, cv::Scalar(0, 0, 0), 1);
  cv::line(img, {left, top}, {left, top + plot_h}, cv::Scalar(0, 0, 0), 1);
  for (double d = lo; d <= hi + 1e-9; d += 0.1) {
    cv::line(img, {x_of(d), top + plot_h}, {x_of(d), top + plot_h + 5}, cv::Scalar(0, 0, 0), 1);
    char label[16];
    std::snprintf(label, sizeof label, "%.1f", d);
    cv::putText(img, label, {x_of(d) - 10, top + plot_h + 20}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
                cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  const int tx = x_of(report.tolerance);
  for (int y = top; y < top + plot_h; y += 8)
    cv::line(img, {tx, y}, {tx, y + 4}, cv::Scalar(0, 0, 0), 2);
  char text[160];
  std::snprintf(text, sizeof text, "tolerance %.3f", report.tolerance);
  cv::putText(img, text, {tx + 6, top + 14}, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1,
              cv::LINE_AA);
  std::snprintf(text, sizeof text,
                "genuine: probe to own mean (%zu)   impostor: stranger to nearest person (%zu)",
                report.genuine_distances.size(), report.impostor_distances.size());
  cv::putText(img, text, {left, 24}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1,
              cv::LINE_AA);
  cv::rectangle(img, {width - 200, top + 10}, {width - 186, top + 24}, cv::Scalar(60, 160, 40),
                cv::FILLED);
  cv::putText(img, "genuine", {width - 180, top + 22}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
              cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::rectangle(img, {width - 200, top + 32}, {width - 186, top + 46}, cv::Scalar(40, 40, 200),
                cv::FILLED);
  cv::putText(img, "impostor", {width - 180, top + 44}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
              cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::putText(img, "distance", {left + plot_w / 2 - 30, height - 8}, cv::FONT_HERSHEY_SIMPLEX, 0.5,
              cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  return EncodePng(img);
}

// Impostor distances kept for the median and 1st percentile (an even sample).
constexpr size_t kMaxImpostorSample = 2'000'000;

Result<Calibration> Calibrate(const std::vector<StoredEmbedding>& embeddings,
                              const CalibrationOptions& options) {
  if (!(options.target_far > 0 && options.target_far < 1))
    return Status::InvalidArgument("--target-far must be between 0 and 1 (e.g. 0.01)");
  // People and their sums, in first-seen order.
  std::map<std::string, int> index;
  std::vector<std::vector<const StoredEmbedding*>> rows_of;
  for (const auto& e : embeddings) {
    auto [it, fresh] = index.emplace(e.employee_id, static_cast<int>(rows_of.size()));
    if (fresh) rows_of.emplace_back();
    rows_of[it->second].push_back(&e);
  }
  const size_t n = rows_of.size();
  if (n < 2)
    return Status::BadInput("calibration needs at least two enrolled people (found " +
                            std::to_string(n) + ")");
  std::vector<Embedding> sums(n), means(n);
  for (size_t p = 0; p < n; ++p) {
    sums[p].fill(0);
    for (const auto* e : rows_of[p])
      for (int i = 0; i < kEmbeddingDim; ++i) sums[p][i] += e->vector[i];
    for (int i = 0; i < kEmbeddingDim; ++i) means[p][i] = sums[p][i] / rows_of[p].size();
  }
  // Probes: every photo, or an even spread of them in a large gallery.
  struct Probe {
    int person;
    const StoredEmbedding* e;
  };
  std::vector<Probe> probes;
  for (size_t p = 0; p < n; ++p)
    for (const auto* e : rows_of[p]) probes.push_back({static_cast<int>(p), e});
  if (probes.size() > options.max_probes) {
    std::vector<Probe> spread;
    for (size_t i = 0; i < options.max_probes; ++i)
      spread.push_back(probes[i * probes.size() / options.max_probes]);
    probes = std::move(spread);
  }
  Calibration c;
  c.people = n;
  c.embeddings = embeddings.size();
  // One of N comparisons may pass with probability p so that any passes with R.
  c.per_comparison_far = 1 - std::pow(1 - options.target_far, 1.0 / static_cast<double>(n));
  // Impostor pairs number probes x (N - 1): 300 million in a gallery of 100k.
  // Kept: the smallest few the tolerance is read from, an even sample for the
  // quantiles, and running sums for the Gaussian tail.
  const size_t total_pairs = probes.size() * (n - 1);
  const size_t allowed = static_cast<size_t>(std::floor(c.per_comparison_far * total_pairs));
  const size_t stride = std::max<size_t>(1, total_pairs / kMaxImpostorSample);
  std::priority_queue<double> smallest;  // the allowed + 1 smallest, largest on top
  double sum = 0, sum_sq = 0, minimum = INFINITY;
  size_t pair_index = 0;
  std::vector<double> genuine, impostor;
  struct PerProbe {
    double own = -1;       // to the mean of the person's other photos
    double nearest_other;  // to the nearest other person's mean
    double second_other;   // to the second-nearest other person's mean
  };
  std::vector<PerProbe> per(probes.size());
  for (size_t i = 0; i < probes.size(); ++i) {
    const Probe& pr = probes[i];
    const auto& mine = rows_of[pr.person];
    if (mine.size() >= 2) {
      Embedding loo;
      for (int d = 0; d < kEmbeddingDim; ++d)
        loo[d] = (sums[pr.person][d] - pr.e->vector[d]) / static_cast<float>(mine.size() - 1);
      per[i].own = Distance(pr.e->vector, loo);
      genuine.push_back(per[i].own);
    }
    double best = INFINITY, second = INFINITY;
    for (size_t q = 0; q < n; ++q) {
      if (static_cast<int>(q) == pr.person) continue;
      const double d = Distance(pr.e->vector, means[q]);
      if (pair_index++ % stride == 0) impostor.push_back(d);
      sum += d;
      sum_sq += d * d;
      minimum = std::min(minimum, d);
      if (smallest.size() <= allowed) {
        smallest.push(d);
      } else if (d < smallest.top()) {
        smallest.pop();
        smallest.push(d);
      }
      if (d < best)
        second = best, best = d;
      else if (d < second)
        second = d;
    }
    per[i].nearest_other = best;
    per[i].second_other = second;
  }
  c.genuine_pairs = genuine.size();
  c.impostor_pairs = total_pairs;
  if (genuine.empty())
    return Status::BadInput(
        "calibration needs people with two or more photos (each photo is compared with the "
        "mean of its person's other photos)");
  c.genuine_median = Quantile(genuine, 0.5);
  c.genuine_p95 = Quantile(genuine, 0.95);
  c.impostor_median = Quantile(impostor, 0.5);
  c.impostor_p1 = Quantile(impostor, 0.01);

  const double expected = c.per_comparison_far * total_pairs;
  if (expected >= 10) {
    // Empirical: the first impostor distance that would make the rate too high.
    c.tolerance = smallest.top();
  } else {
    // Too few pairs to see that tail: a Gaussian fitted to the impostor distances.
    const double count = static_cast<double>(total_pairs);
    const double mean = sum / count;
    const double sd =
        std::sqrt(std::max(0.0, (sum_sq - count * mean * mean) / std::max(1.0, count - 1)));
    c.tolerance = std::min(mean + sd * NormalQuantile(c.per_comparison_far), minimum);
    c.extrapolated = true;
  }
  c.tolerance = std::floor(c.tolerance * 1000) / 1000;  // three decimals, never above the estimate

  // Margin: the largest gap to the next person that at most margin_cost of the
  // correct accepts fall short of (gaps of photos accepted as themselves).
  std::vector<double> gaps;
  for (const PerProbe& p : per)
    if (p.own >= 0 && p.own <= c.tolerance && p.own < p.nearest_other)
      gaps.push_back(p.nearest_other - p.own);
  c.margin = gaps.empty() ? 0
                          : std::clamp(std::floor(Quantile(gaps, options.margin_cost) * 100) / 100,
                                       0.0, 0.1);

  size_t accepted = 0, genuine_n = 0, impostor_through = 0;
  for (const PerProbe& p : per) {
    if (p.own >= 0) {
      ++genuine_n;
      accepted += p.own <= c.tolerance && p.nearest_other - p.own >= c.margin;
    }
    // The photo as a stranger: everyone but its own person enrolled.
    const double second = std::isinf(p.second_other) ? -1 : p.second_other;
    impostor_through += Passes(static_cast<float>(p.nearest_other), static_cast<float>(second),
                               c.tolerance, c.margin);
  }
  c.genuine_accept = Ratio(accepted, genuine_n);
  c.observed_far = Ratio(impostor_through, per.size());
  return c;
}

}  // namespace faceatt
