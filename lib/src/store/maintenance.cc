#include "faceatt/maintenance.h"

#include <filesystem>
#include <unordered_map>

#include "faceatt/image.h"

namespace faceatt {
namespace fs = std::filesystem;

int RemoveEmbeddingFiles(const DataDir& data, const std::vector<StoredEmbedding>& removed) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : removed)
    for (const std::string* p : {&e.thumbnail_path, &e.crop_path})
      if (!p->empty() && fs::remove(data.Absolute(*p), ec)) ++n;
  return n;
}

Result<DeletedPerson> DeletePerson(PeopleStore& store, const DataDir& data,
                                   const std::string& employee_id, bool purge_attendance) {
  FACEATT_ASSIGN_OR_RETURN(auto removed, store.DeleteUser(employee_id, purge_attendance));
  return DeletedPerson{static_cast<int>(removed.size()), RemoveEmbeddingFiles(data, removed)};
}

Result<StoredEmbedding> DeletePersonPhoto(PeopleStore& store, const DataDir& data,
                                          const std::string& employee_id, int64_t embedding_id) {
  FACEATT_ASSIGN_OR_RETURN(StoredEmbedding removed,
                           store.DeleteEmbedding(employee_id, embedding_id));
  RemoveEmbeddingFiles(data, {removed});
  return removed;
}

Result<std::string> BackupDatabase(MaintenanceStore& store, const DataDir& data,
                                   const Clock& clock) {
  std::error_code ec;
  fs::create_directories(data.backups(), ec);
  if (ec) return Status::IoError("cannot create " + data.backups() + ": " + ec.message());
  // 2026-11-21T08:30:00.123Z -> 20261121T083000Z
  std::string stamp;
  for (char c : FormatUtc(clock.NowMillis()).substr(0, 19))
    if (c != '-' && c != ':') stamp += c;
  std::string path = data.backups() + "/faceatt-" + stamp + "Z.db";
  for (int i = 2; fs::exists(path, ec); ++i)
    path = data.backups() + "/faceatt-" + stamp + "Z-" + std::to_string(i) + ".db";
  FACEATT_RETURN_IF_ERROR(store.Backup(path));
  return path;
}

Result<ResetResult> ResetUsers(Store& store, const DataDir& data, bool backup, const Clock& clock) {
  ResetResult r;
  if (backup) {
    FACEATT_ASSIGN_OR_RETURN(r.backup, BackupDatabase(store, data, clock));
  }
  FACEATT_ASSIGN_OR_RETURN(int64_t people, store.CountUsers());
  FACEATT_ASSIGN_OR_RETURN(auto removed, store.DeleteAllUsers());
  r.people = static_cast<int>(people);
  r.embeddings = static_cast<int>(removed.size());
  r.files_removed = RemoveEmbeddingFiles(data, removed);
  // Every thumbnail and crop belonged to someone: clear leftovers of interrupted runs too.
  std::error_code ec;
  for (const std::string& dir : {data.thumbnails(), data.faces()}) {
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file()) ++r.files_removed;
    ec.clear();
    fs::remove_all(dir, ec);
    if (ec) return Status::IoError("cannot remove " + dir + ": " + ec.message());
  }
  return r;
}

namespace {
bool HashMatches(const std::string& path, const std::string& sha) {
  if (sha.empty()) return true;
  auto bytes = ReadFileBytes(path, 1LL << 31);
  return bytes.ok() && Sha256Hex(*bytes) == sha;
}
}  // namespace

Result<FixPathsResult> FixPaths(MaintenanceStore& store, const DataDir& data, bool dry_run) {
  FACEATT_ASSIGN_OR_RETURN(auto refs, store.ListFileRefs());
  FixPathsResult result;
  std::error_code ec;
  std::unordered_map<std::string, std::vector<std::string>> by_name;
  bool indexed = false;
  auto index = [&] {
    if (indexed) return;
    indexed = true;
    const fs::path backups = data.backups();
    for (auto it = fs::recursive_directory_iterator(data.root(), ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory() && it->path() == backups) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file())
        by_name[it->path().filename().string()].push_back(it->path().string());
    }
    ec.clear();
  };
  // The longest tail of an old path that exists under the data folder ("" when none).
  auto tail_in_data = [&](const FileRef& ref, const std::string& abs) -> std::string {
    std::vector<std::string> parts;
    for (const auto& c : fs::path(ref.path).relative_path()) parts.push_back(c.string());
    for (size_t start = 0; start < parts.size(); ++start) {
      fs::path tail;
      for (size_t k = start; k < parts.size(); ++k) tail /= parts[k];
      const std::string cand = (fs::path(data.root()) / tail).lexically_normal().string();
      if (cand != abs && fs::is_regular_file(cand, ec) && HashMatches(cand, ref.sha256))
        return cand;
    }
    return "";
  };
  for (const auto& ref : refs) {
    ++result.checked;
    const std::string abs = data.Absolute(ref.path);
    PathFix fix{ref, "", ""};
    if (fs::is_regular_file(abs, ec)) {
      std::string rel = data.Relative(abs);
      // Thumbnails, crops and attendance images live in the data folder: an
      // absolute path into another one (the folder was copied, the old copy is
      // still there) points at the copy in this one when it has the file.
      if (fs::path(rel).is_absolute() && ref.column != "source_path") {
        const std::string here = tail_in_data(ref, abs);
        if (!here.empty()) rel = data.Relative(here);
      }
      if (rel == ref.path) {
        ++result.ok;
        continue;
      }
      fix.action = "rewrite";
      fix.new_path = rel;
    } else {
      // Moved: the same place in the data folder, which moved...
      if (const std::string cand = tail_in_data(ref, abs); !cand.empty()) {
        fix.action = "rewrite";
        fix.new_path = data.Relative(cand);
      }
      // ...else a file of the same name anywhere in it (the one whose hash matches).
      if (fix.action.empty()) {
        index();
        auto it = by_name.find(fs::path(ref.path).filename().string());
        std::vector<std::string> found;
        if (it != by_name.end())
          for (const auto& c : it->second)
            if (HashMatches(c, ref.sha256)) found.push_back(c);
        if (found.size() == 1 || (!found.empty() && !ref.sha256.empty())) {
          fix.action = "relocate";
          fix.new_path = data.Relative(found.front());
        } else {
          fix.action = "missing";
        }
      }
    }
    if (!dry_run && fix.action != "missing")
      FACEATT_RETURN_IF_ERROR(store.UpdateFileRef(ref, fix.new_path));
    result.fixes.push_back(std::move(fix));
  }
  return result;
}

}  // namespace faceatt
