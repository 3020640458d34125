#include "faceatt/bulk_enroll.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "faceatt/export.h"
#include "faceatt/gallery.h"
#include "faceatt/image.h"

namespace faceatt {
namespace fs = std::filesystem;
namespace {

bool IsImageFile(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  static const std::set<std::string> kExt = {".jpg",  ".jpeg", ".png", ".bmp",
                                             ".webp", ".tif",  ".tiff"};
  return kExt.count(ext) > 0;
}

// "EMP001": letters then digits, the shape of an employee id.
bool LooksLikeId(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0 || i == s.size()) return false;
  for (size_t j = i; j < s.size(); ++j)
    if (!std::isdigit(static_cast<unsigned char>(s[j]))) return false;
  return true;
}

std::string Underscores(std::string s) {
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

// One folder of the known_faces tree.
struct Person {
  std::string label;
  BulkLabel who;
  std::string error;           // bad label
  std::vector<size_t> images;  // indexes into the image table
};

// One image and what a worker made of it.
struct Task {
  size_t person = 0;
  std::string path;  // absolute
  BulkImage out;
  std::optional<PreparedFace> face;
  int64_t replace_id = 0;  // --update: the embedding row this image re-embeds
  std::string path_owner;  // who an embedding from this very file belongs to
};

// Means of several photos lie closer together than single photos: on LFW with
// the DenseNet one person split into two folders of three measured 0.21-0.26
// between the halves' means; of the 44,850 pairs of different people only one
// came closer than 0.43 (0.303, flagged: a warning asks a person to look). With
// the model's tolerance of 0.42, 0.75 x tolerance is 0.315.
constexpr double kSamePersonMeans = 0.75;
// A photo is an outlier when it lies this far beyond the tolerance from the mean
// of the folder's other photos: on 60 LFW folders genuine photos reached 1.12 x
// tolerance, a photo of someone else 1.45 x.
constexpr double kOutlierFactor = 1.2;

struct Stored {
  int64_t id;
  std::string employee_id, sha256, model_id;
};

}  // namespace

Result<BulkLabel> ParseLabel(const std::string& label) {
  if (!IsSafePathComponent(label) || label[0] == '.')
    return Status::InvalidArgument("folder label '" + label + "' is not a safe folder name");
  BulkLabel out;
  const size_t us = label.find('_');
  if (LooksLikeId(label)) {
    out.employee_id = label;
  } else if (us != std::string::npos && LooksLikeId(label.substr(0, us)) && us + 1 < label.size()) {
    out.employee_id = label.substr(0, us);
    out.name = Underscores(label.substr(us + 1));
  } else {
    out.name = Underscores(label);
  }
  if (!out.employee_id.empty()) FACEATT_RETURN_IF_ERROR(ValidateEmployeeId(out.employee_id));
  if (!out.name.empty())
    FACEATT_RETURN_IF_ERROR(ValidateName(out.name).WithPrefix("label '" + label + "'"));
  return out;
}

Result<std::map<std::string, BulkLabel>> ReadPeopleCsv(const std::string& path) {
  FACEATT_ASSIGN_OR_RETURN(std::string text, ReadFileBytes(path, 50'000'000));
  return ParsePeopleCsv(text, path);
}

Result<std::map<std::string, BulkLabel>> ParsePeopleCsv(const std::string& text,
                                                        const std::string& path) {
  auto parsed = ParseCsv(text);
  if (!parsed.ok()) return parsed.status().WithPrefix(path);
  const auto& rows = *parsed;
  std::map<std::string, BulkLabel> out;
  if (rows.empty()) return out;
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < rows[0].size(); ++i) {
    std::string h = rows[0][i];
    h.erase(0, h.find_first_not_of(' '));
    h.erase(h.find_last_not_of(' ') + 1);
    col[h] = i;
  }
  if (!col.count("label"))
    return Status::BadInput(path +
                            ": the header row must name a 'label' column "
                            "(label,employee_id,name,department)");
  auto get = [&](const std::vector<std::string>& r, const char* name) {
    auto it = col.find(name);
    return it == col.end() || it->second >= r.size() ? std::string() : r[it->second];
  };
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const std::string where = path + " row " + std::to_string(i + 1);
    const std::string label = get(r, "label");
    if (!IsSafePathComponent(label) || label[0] == '.')
      return Status::BadInput(where + ": label '" + label + "' is not a safe folder name");
    BulkLabel b{get(r, "employee_id"), get(r, "name"), get(r, "department")};
    if (!b.employee_id.empty() && !ValidateEmployeeId(b.employee_id).ok())
      return Status::BadInput(where + ": " + ValidateEmployeeId(b.employee_id).message());
    if (!b.name.empty() && !ValidateName(b.name).ok())
      return Status::BadInput(where + ": " + ValidateName(b.name).message());
    if (!b.department.empty() && !ValidateName(b.department, "department").ok())
      return Status::BadInput(where + ": " + ValidateName(b.department, "department").message());
    std::stringstream groups(get(r, "group"));
    for (std::string g; std::getline(groups, g, ';');) {
      g.erase(0, g.find_first_not_of(' '));
      g.erase(g.find_last_not_of(' ') + 1);
      if (g.empty()) continue;
      if (Status st = ValidateName(g, "group"); !st.ok())
        return Status::BadInput(where + ": " + st.message());
      b.groups.push_back(g);
    }
    out[label] = std::move(b);
  }
  return out;
}

Result<BulkSummary> BulkEnroll(const Config& config, const Models& models, FaceService& service,
                               PeopleStore& store, const BulkOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  std::error_code ec;
  if (!fs::is_directory(options.dir, ec))
    return Status::NotFound("no known-faces folder " + options.dir +
                            " (one sub-folder of photos per person)");
  const fs::path root = fs::absolute(options.dir, ec).lexically_normal();
  std::map<std::string, BulkLabel> csv;
  if (fs::exists(root / "people.csv", ec)) {
    FACEATT_ASSIGN_OR_RETURN(csv, ReadPeopleCsv((root / "people.csv").string()));
  }
  const DataDir& data = service.data_dir();
  const std::string model_id = service.model_id();

  // Scan: folders in name order, images in name order.
  std::vector<std::string> labels;
  // Folders starting with '.' are listed too: ParseLabel reports them as bad_label
  // (docs/admin.md). The error_code overloads keep a symlink loop from throwing.
  for (const auto& e : fs::directory_iterator(root, ec)) {
    std::error_code entry_ec;
    if (e.is_directory(entry_ec)) labels.push_back(e.path().filename().string());
  }
  if (ec) return Status::IoError("cannot read " + root.string() + ": " + ec.message());
  std::sort(labels.begin(), labels.end());
  std::vector<Person> people;
  std::vector<Task> tasks;
  for (const auto& label : labels) {
    Person p;
    p.label = label;
    auto it = csv.find(label);
    if (it != csv.end()) {
      if (!IsSafePathComponent(label)) p.error = "folder label is not a safe folder name";
      p.who = it->second;
    } else {
      auto parsed = ParseLabel(label);
      if (parsed.ok())
        p.who = *parsed;
      else
        p.error = parsed.status().message();
    }
    std::vector<std::string> files;
    // An image name whose status cannot be read (a symlink loop, a dangling link)
    // is kept: reading it fails, and that one photo is reported bad_input.
    for (const auto& f : fs::directory_iterator(root / label, ec)) {
      std::error_code entry_ec;
      const bool regular = f.is_regular_file(entry_ec);
      if ((regular || entry_ec) && IsImageFile(f.path())) files.push_back(f.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      Task t;
      t.person = people.size();
      t.path = f;
      t.out.label = label;
      t.out.path = f;
      if (!p.error.empty()) {
        t.out.outcome = kBulkRejected;
        t.out.reason = kBadLabel;
        t.out.detail = p.error;
      }
      p.images.push_back(tasks.size());
      tasks.push_back(std::move(t));
    }
    people.push_back(std::move(p));
  }

  // What is stored already: by source path (for changed images), users by id and name.
  FACEATT_ASSIGN_OR_RETURN(auto stored_rows, store.LoadEmbeddings(""));
  std::unordered_map<std::string, std::vector<Stored>> by_path;
  for (const auto& e : stored_rows)
    by_path[e.source_path].push_back({e.id, e.employee_id, e.source_sha256, e.model_id});
  FACEATT_ASSIGN_OR_RETURN(auto users, store.ListUsers());
  std::unordered_map<std::string, User> users_by_id;
  std::unordered_map<std::string, std::vector<std::string>> ids_by_name;
  for (const auto& u : users) {
    users_by_id[u.employee_id] = u;
    ids_by_name[u.name].push_back(u.employee_id);
  }

  // Workers: analyse images in order; the writer (this thread) commits people in order.
  BulkSummary summary;
  summary.images_total = static_cast<int>(tasks.size());
  int jobs =
      options.jobs > 0 ? options.jobs : static_cast<int>(std::thread::hardware_concurrency());
  jobs = std::max(1, std::min(jobs, std::max<int>(1, static_cast<int>(tasks.size()))));
  summary.jobs = jobs;
  SetComputeThreads(1);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> remaining(people.size());
  for (size_t i = 0; i < people.size(); ++i)
    remaining[i] = static_cast<int>(people[i].images.size());
  std::atomic<size_t> next{0};
  std::atomic<int> done{0};
  std::atomic<bool> stop{false};

  auto work = [&]() {
    std::unique_ptr<FacePipeline> pipeline = models.NewPipeline();
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= tasks.size() || stop) break;
      Task& t = tasks[i];
      // An exception must not end the process from a worker thread (std::terminate):
      // the image is reported, the run goes on.
      try {
        if (t.out.outcome.empty()) {
          auto bytes = ReadFileBytes(t.path, config.image.max_bytes);
          if (!bytes.ok()) {
            t.out.outcome = kBulkRejected;
            t.out.reason = kBadInput;
            t.out.detail = bytes.status().message();
          } else {
            const std::string sha = Sha256Hex(*bytes);
            auto owner = store.FindImage(sha, model_id);
            auto known = by_path.find(data.Relative(t.path));
            if (known != by_path.end()) t.path_owner = known->second.front().employee_id;
            if (owner.ok() && owner->has_value()) {
              t.out.outcome = kBulkSkipped;
              t.out.reason = kAlreadyEnrolled;
              t.out.employee_id = **owner;
            } else if (known != by_path.end() && !options.update) {
              t.out.outcome = kBulkSkipped;
              t.out.reason = kChanged;
              t.out.employee_id = known->second.front().employee_id;
              t.out.detail = "enrolled before with other contents or another model (use --update)";
            } else {
              if (known != by_path.end()) {
                t.replace_id = known->second.front().id;
                t.out.employee_id = known->second.front().employee_id;
              }
              std::optional<PreparedFace> face;
              ImageOutcome o =
                  service.Prepare(*pipeline, {t.path, std::move(*bytes)}, options.largest, &face);
              if (face) {
                t.face = std::move(face);
              } else {
                t.out.outcome = o.reason == kAlreadyEnrolled ? kBulkSkipped : kBulkRejected;
                t.out.reason = o.reason;
                t.out.detail = o.detail;
              }
            }
          }
        }
      } catch (const std::exception& e) {
        t.face.reset();
        t.out.outcome = kBulkRejected;
        t.out.reason = "internal_error";
        t.out.detail = e.what();
      }
      {
        std::lock_guard lock(mu);
        --remaining[t.person];
      }
      ++done;
      cv.notify_all();
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < jobs; ++w) workers.emplace_back(work);
  auto join = [&] {
    stop = true;
    for (auto& w : workers) w.join();
    workers.clear();
  };
  struct Joiner {
    std::function<void()> f;
    ~Joiner() { f(); }
  } joiner{join};  // every return below stops and joins the workers first

  std::set<std::string> committed_sha;
  std::map<std::string, std::string> employee_of_label;
  auto report = [&] {
    if (options.progress) options.progress({done.load(), summary.images_total, seconds()});
  };
  const auto interval = std::chrono::duration<double>(options.progress_interval_seconds);
  for (size_t pi = 0; pi < people.size(); ++pi) {
    {
      std::unique_lock lock(mu);
      while (remaining[pi] > 0) {
        if (cv.wait_for(lock, interval) == std::cv_status::timeout) {
          lock.unlock();
          report();
          lock.lock();
        }
      }
    }
    Person& p = people[pi];
    // Who this folder is: the label's id, the owner of an embedding made from one of its files, or
    // the name.
    std::string employee = p.who.employee_id;
    std::vector<Task*> fresh, replace;
    for (size_t ti : p.images) {
      Task& t = tasks[ti];
      // Not the owner of an identical file elsewhere: only this folder's own files say who it is.
      if (employee.empty() && !t.path_owner.empty()) employee = t.path_owner;
      if (!t.face) continue;
      if (committed_sha.count(t.face->sha256)) {
        t.out.outcome = kBulkSkipped;
        t.out.reason = kAlreadyEnrolled;
        t.out.detail = "the same image appears earlier in this run";
        t.face.reset();
        continue;
      }
      committed_sha.insert(t.face->sha256);
      (t.replace_id ? replace : fresh).push_back(&t);
    }
    if (employee.empty() && !p.who.name.empty()) {
      auto it = ids_by_name.find(p.who.name);
      if (it != ids_by_name.end() && it->second.size() == 1) employee = it->second.front();
    }
    const bool exists = !employee.empty() && users_by_id.count(employee);
    bool changed = false;
    if (!p.error.empty()) {
      // Reported per image already.
    } else if (options.dry_run) {
      for (Task* t : fresh) t->out.outcome = kBulkWouldEnroll;
      for (Task* t : replace) t->out.outcome = kBulkWouldEnroll;
      if (!fresh.empty() || !replace.empty())
        (exists ? summary.people_updated : summary.people_created)++;
    } else {
      if (!fresh.empty()) {
        std::vector<PreparedFace> faces;
        for (Task* t : fresh) faces.push_back(std::move(*t->face));
        NewUser nu{employee,
                   p.who.name.empty() ? (employee.empty() ? p.label : employee) : p.who.name,
                   p.who.department};
        auto user = service.Commit(nu, exists, faces, "faces/" + p.label);
        if (!user.ok()) {
          const Code c = user.status().code();
          if (c == Code::kIoError || c == Code::kCorruption || c == Code::kInternal ||
              c == Code::kUnavailable) {
            join();
            return user.status().WithPrefix(p.label);
          }
          for (Task* t : fresh) {
            t->out.outcome = kBulkRejected;
            t->out.reason = "refused";
            t->out.detail = user.status().message();
          }
        } else {
          employee = user->employee_id;
          for (Task* t : fresh) {
            t->out.outcome = kBulkEnrolled;
            t->out.employee_id = employee;
          }
          if (!exists) {
            users_by_id[employee] = *user;
            ids_by_name[user->name].push_back(employee);
            summary.people_created++;
          } else {
            changed = true;
          }
        }
      }
      for (Task* t : replace) {
        // Re-embed a changed image in place: new files, then one row update.
        StoredEmbedding e;
        e.model_id = model_id;
        e.vector = t->face->face.embedding;
        e.quality = t->face->face.sharpness;
        e.source_sha256 = t->face->sha256;
        const std::string stem = t->face->sha256.substr(0, 16);
        const std::string thumb = data.thumbnails() + "/" + stem + ".jpg";
        const std::string crop = data.Absolute("faces/" + p.label) + "/" + stem + ".png";
        Status st;
        auto jpeg = EncodeJpeg(t->face->thumbnail, 90);
        auto png = EncodePng(t->face->face.chip);
        if (!jpeg.ok()) st = jpeg.status();
        if (st.ok()) st = WriteFileAtomic(thumb, *jpeg);
        if (st.ok() && !png.ok()) st = png.status();
        if (st.ok()) st = WriteFileAtomic(crop, *png);
        e.thumbnail_path = data.Relative(thumb);
        e.crop_path = data.Relative(crop);
        if (st.ok()) st = store.ReplaceEmbedding(t->replace_id, e);
        if (!st.ok()) {
          join();
          return st.WithPrefix(t->path);
        }
        t->out.outcome = kBulkUpdated;
        changed = true;
        summary.images_updated++;
      }
      // --update: people.csv / label names and departments win over what is stored.
      if (options.update && !employee.empty() && users_by_id.count(employee)) {
        const User& u = users_by_id[employee];
        std::optional<std::string> name, dept;
        if (!p.who.name.empty() && p.who.name != u.name) name = p.who.name;
        if (!p.who.department.empty() && p.who.department != u.department) dept = p.who.department;
        if (name || dept) {
          Status st = store.UpdateUser(employee, name, dept, std::nullopt);
          if (!st.ok()) {
            join();
            return st;
          }
          changed = true;
        }
      }
      // people.csv's groups: added (never removed) once the person exists.
      if (!employee.empty() && users_by_id.count(employee))
        for (const auto& g : p.who.groups)
          if (Status st = store.SetGroupMembership(employee, g, true); !st.ok()) {
            join();
            return st.WithPrefix(p.label);
          }
      if (exists && changed) summary.people_updated++;
      if (!replace.empty()) FACEATT_RETURN_IF_ERROR(service.Reload());
    }
    if (exists && !changed && !options.dry_run && p.error.empty()) summary.people_unchanged++;
    if (!employee.empty() && p.error.empty()) employee_of_label[p.label] = employee;
    for (size_t ti : p.images) {
      tasks[ti].face.reset();  // free the chips and thumbnails
      if (tasks[ti].out.employee_id.empty() && tasks[ti].out.outcome == kBulkEnrolled)
        tasks[ti].out.employee_id = employee;
    }
    report();
  }
  join();

  for (auto& t : tasks) {
    BulkImage& o = t.out;
    if (o.outcome == kBulkEnrolled)
      summary.images_enrolled++;
    else if (o.outcome == kBulkSkipped)
      summary.images_skipped++;
    else if (o.outcome == kBulkRejected) {
      summary.images_rejected++;
      summary.rejected_by_reason[o.reason]++;
    }
    summary.images.push_back(std::move(o));
  }

  // Warnings from what is stored now: folders whose means are within tolerance
  // of each other, and photos far from the rest of their folder.
  if (!options.dry_run) {
    const double tol = service.policy().tolerance;
    FACEATT_ASSIGN_OR_RETURN(auto rows, store.LoadEmbeddings(model_id));
    std::unordered_map<std::string, std::vector<const StoredEmbedding*>> of;
    for (const auto& r : rows) of[r.employee_id].push_back(&r);
    auto mean = [](const std::vector<const StoredEmbedding*>& v, const StoredEmbedding* skip) {
      Embedding m{};
      int n = 0;
      for (const auto* e : v) {
        if (e == skip) continue;
        for (int k = 0; k < kEmbeddingDim; ++k) m[k] += e->vector[k];
        ++n;
      }
      for (auto& x : m) x /= std::max(1, n);
      return m;
    };
    std::vector<std::pair<std::string, Embedding>> means;  // label, mean
    std::vector<std::string> means_employee;
    for (const auto& [label, employee] : employee_of_label) {
      auto it = of.find(employee);
      if (it == of.end()) continue;
      means.push_back({label, mean(it->second, nullptr)});
      means_employee.push_back(employee);
      if (it->second.size() >= 3) {
        for (const auto* e : it->second) {
          const float d = Distance(e->vector, mean(it->second, e));
          if (d > kOutlierFactor * tol) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "%.3f", d);
            summary.warnings.push_back(
                {"outlier", "folder " + label + ": " + e->source_path +
                                " is far from the folder's other photos (distance " + buf +
                                "); does it show another person?"});
          }
        }
      }
    }
    for (size_t a = 0; a < means.size(); ++a)
      for (size_t b = a + 1; b < means.size(); ++b) {
        if (means_employee[a] == means_employee[b]) continue;
        const float d = Distance(means[a].second, means[b].second);
        if (d <= kSamePersonMeans * tol) {
          char buf[16];
          std::snprintf(buf, sizeof buf, "%.3f", d);
          summary.warnings.push_back(
              {"same_person", "folders " + means[a].first + " and " + means[b].first +
                                  " look like the same person (distance between their "
                                  "means " +
                                  buf + ")"});
        }
      }
  }
  summary.seconds = seconds();
  return summary;
}

Status WriteBulkReport(const BulkSummary& s, const std::string& path) {
  const bool csv = fs::path(path).extension() == ".csv";
  std::string text;
  if (csv) {
    text = CsvRow({"label", "path", "employee_id", "outcome", "reason", "detail"});
    for (const auto& i : s.images)
      text += CsvRow({i.label, i.path, i.employee_id, i.outcome, i.reason, i.detail});
  } else {
    nlohmann::json images = nlohmann::json::array(), warnings = nlohmann::json::array();
    for (const auto& i : s.images)
      images.push_back({{"label", i.label},
                        {"path", i.path},
                        {"employee_id", i.employee_id},
                        {"outcome", i.outcome},
                        {"reason", i.reason},
                        {"detail", i.detail}});
    for (const auto& w : s.warnings) warnings.push_back({{"kind", w.kind}, {"message", w.message}});
    nlohmann::json doc = {{"summary",
                           {{"people_created", s.people_created},
                            {"people_updated", s.people_updated},
                            {"images_total", s.images_total},
                            {"images_enrolled", s.images_enrolled},
                            {"images_updated", s.images_updated},
                            {"images_skipped", s.images_skipped},
                            {"images_rejected", s.images_rejected},
                            {"rejected_by_reason", s.rejected_by_reason},
                            {"seconds", s.seconds},
                            {"jobs", s.jobs}}},
                          {"warnings", warnings},
                          {"images", images}};
    text = doc.dump(2) + "\n";
  }
  return WriteFileAtomic(path, text);
}

}  // namespace faceatt
