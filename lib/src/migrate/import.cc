#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "faceatt/clock.h"
#include "faceatt/image.h"
#include "faceatt/json.h"
#include "faceatt/migrate.h"
#include "migrate/npy.h"
#include "migrate/tables.h"

namespace faceatt {
namespace {

namespace fs = std::filesystem;
using migrate::Table;
using migrate::TableRow;

struct Vector {
  std::vector<double> values;
  std::string where;  // "file[row]"
  std::string file;
};

struct Person {
  ImportedPerson out;
  std::vector<Vector> vectors;
  std::vector<std::string> photos;
};

struct Plan {
  std::vector<Person> people;
  std::map<std::string, size_t> by_id;
  std::vector<AttendanceRecord> attendance;
  std::map<std::string, std::vector<std::string>> classes;

  Person* Find(const std::string& id) {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : &people[it->second];
  }
  Result<Person*> Add(const std::string& id, const std::string& name, const std::string& dept,
                      const std::string& where) {
    Status st = ValidateEmployeeId(id);
    if (st.ok()) st = ValidateName(name);
    if (st.ok() && !dept.empty()) st = ValidateName(dept, "department");
    if (!st.ok()) return Status::BadInput(where + ": " + st.message());
    if (Find(id)) return Status::BadInput(where + ": employee id " + id + " appears twice");
    by_id[id] = people.size();
    people.push_back({});
    people.back().out.employee_id = id;
    people.back().out.name = name;
    people.back().out.department = dept;
    return &people.back();
  }
};

Status At(const std::string& where, const Status& st) {
  return Status::BadInput(where + ": " + st.message());
}

// Every row of an .npy file as one vector.
Status AddVectors(Person& p, const std::string& file, const std::string& where) {
  auto a = migrate::ReadNpy(file);
  if (!a.ok()) return At(where, a.status());
  for (int r = 0; r < a->rows; ++r)
    p.vectors.push_back({std::vector<double>(a->row(r), a->row(r) + a->cols),
                         file + "[" + std::to_string(r) + "]", file});
  return Status::Ok();
}

// A naive "2024-03-05 09:01:02[.123456]" (MySQL DATETIME, SQLite text) in the
// source's zone, or an ISO 8601 time with its own.
Result<int64_t> SourceTime(std::string s, const std::string& offset, const std::string& where) {
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  const size_t dot = s.find('.', 19);
  size_t zone = s.find_first_of("Z+-", 19);
  if (dot != std::string::npos) {
    const size_t end = zone == std::string::npos ? s.size() : zone;
    if (end - dot > 4) s.erase(dot + 4, end - dot - 4);  // milliseconds are kept
  }
  zone = s.find_first_of("Z+-", 19);
  if (zone == std::string::npos) s += offset;
  auto ms = ParseTimestamp(s);
  if (!ms.ok()) return Status::BadInput(where + ": timestamp '" + s + "' does not parse");
  return *ms;
}

// employee_id UNKNOWN / FAILED_<REASON> are the old API's audit rows.
void SetWho(AttendanceRecord& r, const std::string& id) {
  if (id == "UNKNOWN") {
    r.status = kStatusUnknown;
    r.reason = kUnknown;
  } else if (id.rfind("FAILED_", 0) == 0) {
    r.status = kStatusFailed;
    r.reason = id.substr(7);
    std::transform(r.reason.begin(), r.reason.end(), r.reason.begin(), ::tolower);
    if (r.reason.empty()) r.reason = "failed";
  } else {
    r.employee_id = id;
    r.status = kStatusSuccess;
  }
}

Result<std::string> FindFile(const std::string& stored, const std::string& dir,
                             const std::string& where) {
  if (fs::path(stored).is_absolute() && fs::is_regular_file(stored)) return stored;
  for (const fs::path& p : {fs::path(dir) / stored, fs::path(dir) / fs::path(stored).filename()})
    if (fs::is_regular_file(p)) return p.string();
  return Status::BadInput(where + ": " + stored + " not found (looked in " + dir + ")");
}

Result<std::map<std::string, Table>> ReadKoreanTables(const ImportOptions& o) {
  if (o.source == ImportSource::kMysqlDump) {
    FACEATT_ASSIGN_OR_RETURN(std::string text, ReadFileBytes(o.path, int64_t{1} << 34));
    return migrate::ParseMysqlDump(text, o.path);
  }
  std::map<std::string, Table> tables;
  for (const char* name : {"users", "user_embeddings", "attendance"}) {
    const std::string file = (fs::path(o.path) / (std::string(name) + ".tsv")).string();
    if (!fs::exists(file)) continue;
    FACEATT_ASSIGN_OR_RETURN(std::string text, ReadFileBytes(file, int64_t{1} << 34));
    FACEATT_ASSIGN_OR_RETURN(tables[name], migrate::ParseMysqlTsv(text, file));
  }
  return tables;
}

Status RequireColumns(const Table& t, const std::string& name,
                      std::initializer_list<const char*> cols) {
  for (const char* c : cols)
    if (t.Column(c) < 0)
      return Status::BadInput(t.file + ": table " + name + " has no column " + c);
  return Status::Ok();
}

Result<Plan> ReadKorean(const ImportOptions& o) {
  FACEATT_ASSIGN_OR_RETURN(auto tables, ReadKoreanTables(o));
  if (!tables.count("users"))
    return Status::BadInput(o.path +
                            ": no users table (a dump of the attendance API's database, "
                            "or a folder with users.tsv)");
  const std::string enc = !o.encodings_dir.empty() ? o.encodings_dir
                          : o.source == ImportSource::kMysqlDump
                              ? fs::path(o.path).parent_path().string()
                              : o.path;
  Plan plan;
  const Table& users = tables["users"];
  FACEATT_RETURN_IF_ERROR(RequireColumns(users, "users", {"employee_id", "name"}));
  for (const TableRow& row : users.rows) {
    FACEATT_ASSIGN_OR_RETURN(Person * p,
                             plan.Add(users.Get(row, "employee_id").value_or(""),
                                      users.Get(row, "name").value_or(""), "", users.Where(row)));
    const std::string vec = users.Get(row, "profile_image").value_or("");
    if (vec.empty()) continue;
    FACEATT_ASSIGN_OR_RETURN(std::string file, FindFile(vec, enc, users.Where(row)));
    FACEATT_RETURN_IF_ERROR(AddVectors(*p, file, users.Where(row)));
  }
  if (tables.count("user_embeddings")) {
    const Table& t = tables["user_embeddings"];
    FACEATT_RETURN_IF_ERROR(RequireColumns(t, "user_embeddings", {"employee_id", "vector_path"}));
    for (const TableRow& row : t.rows) {
      const std::string id = t.Get(row, "employee_id").value_or("");
      Person* p = plan.Find(id);
      if (!p) return Status::BadInput(t.Where(row) + ": employee id " + id + " is not in users");
      FACEATT_ASSIGN_OR_RETURN(std::string file,
                               FindFile(t.Get(row, "vector_path").value_or(""), enc, t.Where(row)));
      const bool seen = std::any_of(p->vectors.begin(), p->vectors.end(),
                                    [&](const Vector& v) { return v.file == file; });
      if (!seen) FACEATT_RETURN_IF_ERROR(AddVectors(*p, file, t.Where(row)));
    }
  }
  if (!o.images_dir.empty()) {
    if (!fs::is_directory(o.images_dir))
      return Status::BadInput(o.images_dir + ": images folder not found");
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(o.images_dir))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    // {employee_id}_thumb_{timestamp}.jpg
    for (const fs::path& f : files) {
      const std::string name = f.filename().string();
      const size_t at = name.rfind("_thumb_");
      if (at == std::string::npos) continue;
      if (Person* p = plan.Find(name.substr(0, at))) p->photos.push_back(f.string());
    }
  }
  if (tables.count("attendance")) {
    const Table& t = tables["attendance"];
    FACEATT_RETURN_IF_ERROR(RequireColumns(t, "attendance", {"employee_id", "ts_server"}));
    for (const TableRow& row : t.rows) {
      AttendanceRecord r;
      SetWho(r, t.Get(row, "employee_id").value_or("UNKNOWN"));
      r.type = t.Get(row, "type").value_or("");
      std::transform(r.type.begin(), r.type.end(), r.type.begin(), ::toupper);
      if (r.type != "IN" && r.type != "OUT" && !r.type.empty())
        return Status::BadInput(t.Where(row) + ": type '" + r.type + "' is not IN or OUT");
      r.device_id = t.Get(row, "device_id").value_or("");
      if (auto d = t.Get(row, "distance")) {
        try {
          r.distance = std::stod(*d);
        } catch (const std::exception&) {
          return Status::BadInput(t.Where(row) + ": distance '" + *d + "' is not a number");
        }
      }
      FACEATT_ASSIGN_OR_RETURN(r.ts_server_ms, SourceTime(t.Get(row, "ts_server").value_or(""),
                                                          o.utc_offset, t.Where(row)));
      r.ts_client = t.Get(row, "ts_client").value_or("");
      r.image_ref = t.Get(row, "image_ref").value_or("");
      plan.attendance.push_back(std::move(r));
    }
  }
  return plan;
}

// A label of the ML service made into an employee id.
std::string IdOfLabel(const std::string& label) {
  std::string id;
  for (char c : label)
    id += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ? c : '_';
  return id.substr(0, 64);
}

Result<Plan> ReadMlData(const ImportOptions& o) {
  const fs::path emb = fs::path(o.path) / "embeddings", faces = fs::path(o.path) / "faces";
  if (!fs::is_directory(emb) && !fs::is_directory(faces))
    return Status::BadInput(o.path +
                            ": neither embeddings/ nor faces/ is there (the ML "
                            "service's data/ folder)");
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> labels;
  if (fs::is_directory(emb))
    for (const auto& e : fs::directory_iterator(emb))
      if (e.is_regular_file() && e.path().extension() == ".npy")
        labels[e.path().stem().string()].first = e.path().string();
  if (fs::is_directory(faces))
    for (const auto& d : fs::directory_iterator(faces)) {
      if (!d.is_directory()) continue;
      auto& photos = labels[d.path().filename().string()].second;
      for (const auto& f : fs::directory_iterator(d.path()))
        if (f.is_regular_file()) photos.push_back(f.path().string());
      std::sort(photos.begin(), photos.end());
    }
  Plan plan;
  for (const auto& [label, files] : labels) {
    const std::string where = files.first.empty() ? (faces / label).string() : files.first;
    FACEATT_ASSIGN_OR_RETURN(Person * p, plan.Add(IdOfLabel(label), label, "", where));
    if (!files.first.empty()) FACEATT_RETURN_IF_ERROR(AddVectors(*p, files.first, files.first));
    p->photos = files.second;
  }
  return plan;
}

// Runs `sql` over the school database, calling `row` with each result.
Status EachRow(sqlite3* db, const std::string& file, const std::string& sql,
               const std::function<Status(sqlite3_stmt*)>& row) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    Status st =
        Status::BadInput(file + ": " + sqlite3_errmsg(db) + " (not the school system's schema)");
    sqlite3_finalize(s);
    return st;
  }
  Status st;
  int rc;
  while (st.ok() && (rc = sqlite3_step(s)) == SQLITE_ROW) st = row(s);
  if (st.ok() && rc != SQLITE_DONE) st = Status::BadInput(file + ": " + sqlite3_errmsg(db));
  sqlite3_finalize(s);
  return st;
}

std::string Text(sqlite3_stmt* s, int i) {
  const auto* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

Result<Plan> ReadSchool(const ImportOptions& o) {
  if (!fs::is_regular_file(o.path)) return Status::BadInput(o.path + ": file not found");
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(o.path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> close(db, sqlite3_close);
  if (rc != SQLITE_OK) return Status::BadInput(o.path + ": " + sqlite3_errstr(rc));
  const std::string& f = o.path;
  Plan plan;
  std::map<int64_t, std::pair<std::string, std::string>> classes;  // id -> name, code
  FACEATT_RETURN_IF_ERROR(
      EachRow(db, f, "SELECT id, class_name, class_code FROM classes", [&](sqlite3_stmt* s) {
        classes[sqlite3_column_int64(s, 0)] = {Text(s, 1), Text(s, 2)};
        return Status::Ok();
      }));
  FACEATT_RETURN_IF_ERROR(
      EachRow(db, f, "SELECT rowid, student_id, full_name, class_id FROM students ORDER BY rowid",
              [&](sqlite3_stmt* s) -> Status {
                const std::string where =
                    f + ": students row " + std::to_string(sqlite3_column_int64(s, 0));
                std::string cls;
                if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
                  auto it = classes.find(sqlite3_column_int64(s, 3));
                  if (it == classes.end())
                    return Status::BadInput(where + ": class_id is not in classes");
                  cls = it->second.first;
                }
                FACEATT_ASSIGN_OR_RETURN(Person * p, plan.Add(Text(s, 1), Text(s, 2), cls, where));
                if (!cls.empty()) plan.classes[cls].push_back(p->out.employee_id);
                return Status::Ok();
              }));
  FACEATT_RETURN_IF_ERROR(EachRow(
      db, f, "SELECT rowid, student_id, embedding FROM face_embeddings ORDER BY rowid",
      [&](sqlite3_stmt* s) -> Status {
        const std::string where =
            f + ": face_embeddings row " + std::to_string(sqlite3_column_int64(s, 0));
        Person* p = plan.Find(Text(s, 1));
        if (!p) return Status::BadInput(where + ": student " + Text(s, 1) + " is not in students");
        auto v = nlohmann::json::parse(Text(s, 2), nullptr, false);
        if (v.is_discarded() || !v.is_array())
          return Status::BadInput(where + ": embedding is not a JSON array");
        // InsightFace's space is not dlib's: the vector is reported, never stored.
        p->out.refused.push_back(where + ": " + std::to_string(v.size()) +
                                 "-D InsightFace vector (another model)");
        return Status::Ok();
      }));
  FACEATT_RETURN_IF_ERROR(EachRow(
      db, f,
      "SELECT rowid, student_id, class_id, marked_at, confidence_score FROM attendance "
      "ORDER BY rowid",
      [&](sqlite3_stmt* s) -> Status {
        const std::string where =
            f + ": attendance row " + std::to_string(sqlite3_column_int64(s, 0));
        AttendanceRecord r;
        r.employee_id = Text(s, 1);
        if (!plan.Find(*r.employee_id))
          return Status::BadInput(where + ": student " + *r.employee_id + " is not in students");
        r.status = kStatusSuccess;
        r.type = "IN";  // the school system marked presence only
        auto it = classes.find(sqlite3_column_int64(s, 2));
        r.device_id = it == classes.end() ? "" : "class:" + it->second.second;
        FACEATT_ASSIGN_OR_RETURN(r.ts_server_ms, SourceTime(Text(s, 3), o.utc_offset, where));
        plan.attendance.push_back(std::move(r));
        return Status::Ok();
      }));
  return plan;
}

Embedding ToEmbedding(const std::vector<double>& v) {
  Embedding e{};
  for (int i = 0; i < kEmbeddingDim; ++i) e[i] = static_cast<float>(v[i]);
  return e;
}

// The photos' faces under the current model; an unreadable photo is bad input.
Result<std::vector<PreparedFace>> PreparePhotos(FaceService& service, FacePipeline& pipeline,
                                                Person& p) {
  std::vector<PreparedFace> faces;
  for (const std::string& photo : p.photos) {
    std::optional<PreparedFace> face;
    ImageOutcome out = service.Prepare(pipeline, EnrollImage{photo, "", false}, true, &face);
    if (out.reason == kBadInput)
      return Status::BadInput(photo + ": " + (out.detail.empty() ? "unreadable" : out.detail));
    if (face)
      faces.push_back(std::move(*face));
    else
      p.out.unusable_photos.push_back(photo + ": " + out.reason +
                                      (out.detail.empty() ? "" : " (" + out.detail + ")"));
  }
  return faces;
}

// Which vectors agree with the photos; the rest are refused with why.
std::vector<const Vector*> CheckVectors(Person& p, const std::vector<PreparedFace>& faces,
                                        double bound, bool trust_unchecked) {
  std::vector<const Vector*> agreed;
  for (const Vector& v : p.vectors) {
    if (v.values.size() != kEmbeddingDim) {
      p.out.refused.push_back(v.where + ": " + std::to_string(v.values.size()) +
                              "-D vector of another model (HOG fallback or InsightFace)");
      continue;
    }
    if (faces.empty()) {
      if (trust_unchecked)
        agreed.push_back(&v);
      else
        p.out.refused.push_back(v.where +
                                ": no photo to check it against (128-D vectors may be "
                                "DeepFace Facenet's; --trust-unchecked imports them)");
      continue;
    }
    double best = std::numeric_limits<double>::max();
    for (const PreparedFace& f : faces)
      best = std::min<double>(best, Distance(ToEmbedding(v.values), f.face.embedding));
    if (best <= bound)
      agreed.push_back(&v);
    else
      p.out.refused.push_back(v.where + ": distance " + std::to_string(best).substr(0, 5) +
                              " to this person's photos is above " +
                              std::to_string(bound).substr(0, 5) + " (another model or person)");
  }
  return agreed;
}

bool SameRow(const AttendanceRecord& a, const AttendanceRecord& b) {
  return a.employee_id == b.employee_id && a.ts_server_ms == b.ts_server_ms && a.type == b.type &&
         a.status == b.status && a.reason == b.reason && a.device_id == b.device_id;
}

Result<bool> AlreadyStored(AttendanceStore& store, const AttendanceRecord& r) {
  AttendanceQuery q;
  q.employee_id = r.employee_id;
  q.from_ms = r.ts_server_ms;
  q.to_ms = r.ts_server_ms + 1;
  q.status = r.status;
  q.limit = 0;
  FACEATT_ASSIGN_OR_RETURN(auto rows, store.QueryAttendance(q));
  return std::any_of(rows.begin(), rows.end(),
                     [&](const AttendanceRecord& s) { return SameRow(s, r); });
}

// The number of a <prefix><digits> id, or -1.
int64_t IdNumber(const std::string& id, const std::string& prefix) {
  if (id.size() <= prefix.size() || id.compare(0, prefix.size(), prefix) != 0) return -1;
  const std::string digits = id.substr(prefix.size());
  if (digits.size() > 15 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
  return std::stoll(digits);
}

}  // namespace

Result<ImportReport> Import(const Config& config, FaceService& service, FacePipeline& pipeline,
                            const ImportOptions& options) {
  if (pipeline.embedder().model_id() != service.model_id())
    return Status::InvalidArgument("the pipeline runs another model than the service");
  Result<Plan> read = Status::Internal("no source");
  switch (options.source) {
    case ImportSource::kMysqlDump:
    case ImportSource::kMysqlTsv:
      read = ReadKorean(options);
      break;
    case ImportSource::kMlData:
      read = ReadMlData(options);
      break;
    case ImportSource::kSchoolSqlite:
      read = ReadSchool(options);
      break;
  }
  if (!read.ok()) return read.status();
  Plan& plan = *read;
  const bool trust = options.trust_unchecked.value_or(options.source == ImportSource::kMlData);
  ImportReport report;
  report.model_id = service.model_id();
  report.agree_bound = service.policy().tolerance;
  report.dry_run = options.dry_run;
  report.classes = plan.classes;
  const int total = static_cast<int>(plan.people.size() + plan.attendance.size());
  int done = 0;

  // Everything is read and checked before the first write.
  std::vector<std::vector<PreparedFace>> faces(plan.people.size());
  std::vector<std::vector<const Vector*>> agreed(plan.people.size());
  for (size_t i = 0; i < plan.people.size(); ++i) {
    FACEATT_ASSIGN_OR_RETURN(faces[i], PreparePhotos(service, pipeline, plan.people[i]));
    agreed[i] = CheckVectors(plan.people[i], faces[i], report.agree_bound, trust);
  }

  Store& store = service.store();
  const DataDir& data = service.data_dir();
  std::map<std::string, std::vector<std::string>> groups_of;  // employee id -> classes
  for (const auto& [cls, ids] : plan.classes)
    for (const auto& id : ids) groups_of[id].push_back(cls);
  int64_t highest = -1;
  for (size_t i = 0; i < plan.people.size(); ++i) {
    Person& p = plan.people[i];
    ImportedPerson& out = p.out;
    highest = std::max(highest, IdNumber(out.employee_id, config.enroll.id_prefix));
    report.embeddings_refused += static_cast<int>(out.refused.size());
    auto existing = store.GetUser(out.employee_id);
    if (existing.ok()) {
      out.outcome = "already imported";
      ++report.people_skipped;
    } else if (existing.status().code() != Code::kNotFound) {
      return existing.status();
    } else {
      const NewUser user{out.employee_id, out.name, out.department};
      if (!agreed[i].empty()) {
        std::vector<StoredEmbedding> rows;
        for (const Vector* v : agreed[i]) {
          StoredEmbedding e;
          e.model_id = service.model_id();
          e.vector = ToEmbedding(v->values);
          e.source_path = data.Relative(v->file);
          rows.push_back(std::move(e));
        }
        if (!options.dry_run) FACEATT_RETURN_IF_ERROR(store.CreateUser(user, rows).status());
        out.vectors_imported = static_cast<int>(rows.size());
      } else if (!faces[i].empty()) {
        if (!options.dry_run)
          FACEATT_RETURN_IF_ERROR(service.Commit(user, false, faces[i], "").status());
        out.reembedded = static_cast<int>(faces[i].size());
      } else if (!options.dry_run) {
        FACEATT_RETURN_IF_ERROR(store.CreateUser(user, {}).status());
      }
      const bool none = out.vectors_imported == 0 && out.reembedded == 0;
      out.outcome = none ? "created, needs enrollment" : "created";
      if (none) report.needs_enrollment.push_back(out.employee_id);
      ++report.people_created;
      report.embeddings_imported += out.vectors_imported;
      report.embeddings_reembedded += out.reembedded;
    }
    // Classes become groups; also for people a resumed run skips, in case the
    // last one stopped between the person and their groups.
    if (!options.dry_run)
      for (const auto& group : groups_of[out.employee_id])
        FACEATT_RETURN_IF_ERROR(store.SetGroupMembership(out.employee_id, group, true));
    report.people.push_back(out);
    if (options.progress) options.progress(++done, total);
  }
  if (highest >= 0) {
    std::string digits = std::to_string(highest);
    if (static_cast<int>(digits.size()) < config.enroll.id_digits)
      digits.insert(0, config.enroll.id_digits - digits.size(), '0');
    report.ids_continue_after = config.enroll.id_prefix + digits;
    if (!options.dry_run) FACEATT_RETURN_IF_ERROR(store.ContinueIdsAfter(highest));
  }
  for (const AttendanceRecord& r : plan.attendance) {
    FACEATT_ASSIGN_OR_RETURN(bool stored, AlreadyStored(store, r));
    if (stored) {
      ++report.attendance_skipped;
    } else {
      if (!options.dry_run) FACEATT_RETURN_IF_ERROR(store.AddAttendance(r).status());
      ++report.attendance_added;
      ++(r.status == kStatusSuccess   ? report.attendance_success
         : r.status == kStatusUnknown ? report.attendance_unknown
                                      : report.attendance_failed);
    }
    if (options.progress && (++done % 1000 == 0 || done == total)) options.progress(done, total);
  }
  if (!options.dry_run) FACEATT_RETURN_IF_ERROR(service.Reload());
  return report;
}

}  // namespace faceatt
