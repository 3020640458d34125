#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "faceatt/store.h"
#include "store/tables.h"

namespace faceatt {
namespace {

// Schema migrations: entry i brings the database from user_version i to i+1.
// Never edit a released entry; append a new one.
const char* const kMigrations[] = {
    // 1: people, embeddings, attendance, id sequence.
    R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  employee_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  department TEXT NOT NULL DEFAULT '',
  active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE embeddings (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  model_id TEXT NOT NULL,
  vector BLOB NOT NULL CHECK (length(vector) = 512),
  quality REAL NOT NULL DEFAULT 0,
  source_path TEXT NOT NULL DEFAULT '',
  source_sha256 TEXT NOT NULL DEFAULT '',
  thumbnail_path TEXT NOT NULL DEFAULT '',
  crop_path TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX embeddings_user ON embeddings(user_id);
CREATE INDEX embeddings_sha ON embeddings(source_sha256, model_id);
CREATE TABLE attendance (
  id INTEGER PRIMARY KEY,
  employee_id TEXT,
  type TEXT NOT NULL DEFAULT '' CHECK (type IN ('', 'IN', 'OUT')),
  status TEXT NOT NULL CHECK (status IN ('success', 'unknown', 'failed')),
  reason TEXT NOT NULL DEFAULT '',
  device_id TEXT NOT NULL DEFAULT '',
  distance REAL,
  ts_server TEXT NOT NULL,
  ts_client TEXT NOT NULL DEFAULT '',
  image_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attendance_ts ON attendance(ts_server);
CREATE INDEX attendance_employee ON attendance(employee_id, ts_server);
CREATE TABLE id_sequence (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
INSERT INTO id_sequence VALUES ('employee_id', 1);
CREATE TABLE retired_ids (employee_id TEXT PRIMARY KEY);
)sql",
    // 2: webhook outbox (events wait here until a receiver accepts them).
    R"sql(
CREATE TABLE webhook_outbox (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL,
  event TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  last_http_status INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  delivered_at TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(status, next_attempt_at);
)sql",
    // 3 (issue 14): history keeps its facts. Each attendance row keeps the name
    // and id generation of the person as of the event (existing rows get the
    // names their people have now); a retired id re-used on purpose is a new
    // generation; corrections void or amend rows (never delete them) and each
    // writes an audit row.
    R"sql(
ALTER TABLE users ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE retired_ids ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE attendance ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE attendance ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE attendance ADD COLUMN voided INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attendance ADD COLUMN added_by_admin INTEGER NOT NULL DEFAULT 0;
UPDATE attendance SET name = coalesce(
  (SELECT u.name FROM users u WHERE u.employee_id = attendance.employee_id), '');
CREATE TABLE attendance_audit (
  id INTEGER PRIMARY KEY,
  attendance_id INTEGER NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('add', 'void', 'amend')),
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  reason TEXT NOT NULL,
  old_value TEXT NOT NULL DEFAULT '',
  new_value TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attendance_audit_row ON attendance_audit(attendance_id, id);
)sql",
    // 4 (issue 14): groups. A person belongs to zero or more; each existing
    // free-text department becomes a group of the same name (the department
    // stays as the person's display field). Attendance rows keep the person's
    // groups as of the event (existing rows: their groups now).
    R"sql(
CREATE TABLE user_groups (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  PRIMARY KEY (user_id, name)
);
CREATE INDEX user_groups_name ON user_groups(name);
INSERT INTO user_groups (user_id, name) SELECT id, department FROM users WHERE department <> '';
ALTER TABLE attendance ADD COLUMN groups TEXT NOT NULL DEFAULT '';
UPDATE attendance SET groups = coalesce((SELECT group_concat(g.name, ';') FROM user_groups g
  JOIN users u ON u.id = g.user_id WHERE u.employee_id = attendance.employee_id), '')
  WHERE employee_id IS NOT NULL;
)sql",
    // 5 (issue 17): several serve nodes on one database. gallery_version counts
    // the changes of what a gallery holds, bumped by triggers in the writer's own
    // transaction (so every writer, CLI or node, bumps it); outbox rows are leased
    // to the node delivering them; the webhook cooldown is shared by the nodes.
    R"sql(
CREATE TABLE gallery_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO gallery_version VALUES (1, 1);
CREATE TRIGGER gallery_users_insert AFTER INSERT ON users
  BEGIN UPDATE gallery_version SET version = version + 1; END;
CREATE TRIGGER gallery_users_update AFTER UPDATE OF employee_id, name, active ON users
  BEGIN UPDATE gallery_version SET version = version + 1; END;
CREATE TRIGGER gallery_users_delete AFTER DELETE ON users
  BEGIN UPDATE gallery_version SET version = version + 1; END;
CREATE TRIGGER gallery_embeddings_insert AFTER INSERT ON embeddings
  BEGIN UPDATE gallery_version SET version = version + 1; END;
CREATE TRIGGER gallery_embeddings_update AFTER UPDATE OF user_id, model_id, vector ON embeddings
  BEGIN UPDATE gallery_version SET version = version + 1; END;
CREATE TRIGGER gallery_embeddings_delete AFTER DELETE ON embeddings
  BEGIN UPDATE gallery_version SET version = version + 1; END;
CREATE TRIGGER gallery_groups_insert AFTER INSERT ON user_groups
  BEGIN UPDATE gallery_version SET version = version + 1; END;
CREATE TRIGGER gallery_groups_delete AFTER DELETE ON user_groups
  BEGIN UPDATE gallery_version SET version = version + 1; END;
ALTER TABLE webhook_outbox ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_outbox ADD COLUMN lease_until TEXT NOT NULL DEFAULT '';
CREATE TABLE webhook_cooldown (
  key TEXT PRIMARY KEY,
  last_ms INTEGER NOT NULL
);
CREATE INDEX webhook_cooldown_last ON webhook_cooldown(last_ms);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string(v)); }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, const std::optional<std::string>& v) {
    if (v) return Bind(i, *v);
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Stmt& Bind(int i, const std::optional<double>& v) {
    if (v) return Bind(i, *v);
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Stmt& BindBlob(int i, const void* data, int size) {
    sqlite3_bind_blob(stmt_, i, data, size, SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW -> true, SQLITE_DONE -> false; errors set status().
  bool Step() {
    rc_ = sqlite3_step(stmt_);
    return rc_ == SQLITE_ROW;
  }
  Status status(const char* what) const {
    if (rc_ == SQLITE_OK || rc_ == SQLITE_ROW || rc_ == SQLITE_DONE) return Status::Ok();
    return Error(what);
  }
  Status Error(const char* what) const {
    const int primary = rc_ & 0xff;
    std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_);
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Status::Corruption(msg);
    if (primary == SQLITE_CONSTRAINT) return Status::AlreadyExists(msg);
    return Status::IoError(msg);
  }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : "";
  }
  std::optional<std::string> OptText(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return Text(col);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::optional<double> OptDouble(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return Double(col);
  }
  bool Blob(int col, void* out, int size) const {
    if (sqlite3_column_bytes(stmt_, col) != size) return false;
    std::memcpy(out, sqlite3_column_blob(stmt_, col), size);
    return true;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    const int code = sqlite3_errcode(db) & 0xff;
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
      return Status::Corruption("database: " + msg);
    return Status::IoError("database: " + msg);
  }
  return Status::Ok();
}

}  // namespace

struct SqliteStore::Impl {
  sqlite3* db = nullptr;
  std::mutex mu;
  std::mutex enroll_mu;  // LockEnrollment within this process
  StoreOptions options;
  SystemClock system_clock;
  int version = 0;

  const Clock& clock() const { return options.clock ? *options.clock : system_clock; }
  std::string Now() const { return FormatUtc(clock().NowMillis()); }

  // Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back when fn fails.
  template <typename F>
  Status Transaction(F&& fn) {
    FACEATT_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
    Status st = fn();
    if (st.ok()) st = Exec(db, "COMMIT");
    if (!st.ok()) (void)Exec(db, "ROLLBACK");  // the first error is the one to report
    return st;
  }

  Result<int64_t> UserRowId(const std::string& employee_id) {
    Stmt s(db, "SELECT id FROM users WHERE employee_id = ?");
    s.Bind(1, employee_id);
    if (s.Step()) return s.Int(0);
    FACEATT_RETURN_IF_ERROR(s.status("looking up user"));
    return Status::NotFound("no person with employee id " + employee_id);
  }

  // The last generation of a retired id (nullopt when it is not retired).
  Result<std::optional<int64_t>> RetiredGeneration(const std::string& employee_id) {
    Stmt s(db,
           "SELECT generation FROM retired_ids r WHERE employee_id = ?1 AND NOT EXISTS "
           "(SELECT 1 FROM users u WHERE u.employee_id = ?1)");
    s.Bind(1, employee_id);
    if (s.Step()) return std::optional<int64_t>(s.Int(0));
    FACEATT_RETURN_IF_ERROR(s.status("checking retired ids"));
    return std::optional<int64_t>();
  }

  Result<std::string> NextEmployeeId() {
    Stmt s(db, "SELECT next FROM id_sequence WHERE name = 'employee_id'");
    if (!s.Step()) return s.Error("reading id sequence");
    int64_t n = s.Int(0);
    for (;; ++n) {
      std::string digits = std::to_string(n);
      if (static_cast<int>(digits.size()) < options.id_digits)
        digits.insert(0, options.id_digits - digits.size(), '0');
      const std::string id = options.id_prefix + digits;
      Stmt used(db,
                "SELECT 1 FROM users WHERE employee_id = ?1 UNION ALL "
                "SELECT 1 FROM retired_ids WHERE employee_id = ?1");
      used.Bind(1, id);
      if (used.Step()) continue;
      FACEATT_RETURN_IF_ERROR(used.status("checking id"));
      Stmt upd(db, "UPDATE id_sequence SET next = ? WHERE name = 'employee_id'");
      upd.Bind(1, n + 1);
      upd.Step();
      FACEATT_RETURN_IF_ERROR(upd.status("advancing id sequence"));
      return id;
    }
  }

  Status InsertEmbeddings(int64_t user_row, const std::vector<StoredEmbedding>& embeddings) {
    for (const auto& e : embeddings) {
      Stmt s(db,
             "INSERT INTO embeddings (user_id, model_id, vector, quality, source_path, "
             "source_sha256, thumbnail_path, crop_path, created_at) VALUES (?,?,?,?,?,?,?,?,?)");
      s.Bind(1, user_row).Bind(2, e.model_id);
      s.BindBlob(3, e.vector.data(), sizeof(float) * kEmbeddingDim);
      s.Bind(4, e.quality).Bind(5, e.source_path).Bind(6, e.source_sha256);
      s.Bind(7, e.thumbnail_path).Bind(8, e.crop_path).Bind(9, Now());
      s.Step();
      FACEATT_RETURN_IF_ERROR(s.status("storing embedding"));
    }
    return Status::Ok();
  }

  Result<std::vector<StoredEmbedding>> SelectEmbeddings(const char* where, const std::string& arg) {
    std::string sql =
        "SELECT e.id, u.employee_id, e.model_id, e.vector, e.quality, e.source_path, "
        "e.source_sha256, e.thumbnail_path, e.crop_path, e.created_at FROM embeddings e "
        "JOIN users u ON u.id = e.user_id ";
    sql += where;
    sql += " ORDER BY e.id";
    Stmt s(db, sql.c_str());
    if (!arg.empty()) s.Bind(1, arg);
    std::vector<StoredEmbedding> out;
    while (s.Step()) {
      StoredEmbedding e;
      e.id = s.Int(0);
      e.employee_id = s.Text(1);
      e.model_id = s.Text(2);
      if (!s.Blob(3, e.vector.data(), sizeof(float) * kEmbeddingDim))
        return Status::Corruption("embedding " + std::to_string(e.id) + " has a damaged vector");
      e.quality = s.Double(4);
      e.source_path = s.Text(5);
      e.source_sha256 = s.Text(6);
      e.thumbnail_path = s.Text(7);
      e.crop_path = s.Text(8);
      e.created_at = s.Text(9);
      out.push_back(std::move(e));
    }
    FACEATT_RETURN_IF_ERROR(s.status("reading embeddings"));
    return out;
  }

  static User ReadUser(const Stmt& s) {
    User u;
    u.employee_id = s.Text(0);
    u.name = s.Text(1);
    u.department = s.Text(2);
    u.active = s.Int(3) != 0;
    u.created_at = s.Text(4);
    u.updated_at = s.Text(5);
    u.embeddings = static_cast<int>(s.Int(6));
    return u;
  }
};

namespace {
// Retires the id ?1 ("" = every person's) with the generation it had, so a
// deliberate re-use is the next one.
const char* kRetireIds =
    "INSERT INTO retired_ids (employee_id, generation) SELECT employee_id, generation FROM users "
    "WHERE ?1 = '' OR employee_id = ?1 ON CONFLICT(employee_id) DO UPDATE SET generation = "
    "max(generation, excluded.generation)";

const char* kUserColumns =
    "SELECT u.employee_id, u.name, u.department, u.active, u.created_at, u.updated_at, "
    "(SELECT COUNT(*) FROM embeddings e WHERE e.user_id = u.id) FROM users u ";

// Builds the WHERE clause of an attendance query; binds in order.
std::string AttendanceWhere(const AttendanceQuery& q, std::vector<std::string>& args) {
  std::string w = " WHERE 1=1";
  if (q.employee_id) w += " AND a.employee_id = ?", args.push_back(*q.employee_id);
  if (q.from_ms) w += " AND a.ts_server >= ?", args.push_back(FormatUtc(*q.from_ms));
  if (q.to_ms) w += " AND a.ts_server < ?", args.push_back(FormatUtc(*q.to_ms));
  if (q.status) w += " AND a.status = ?", args.push_back(*q.status);
  if (q.type) w += " AND a.type = ?", args.push_back(*q.type);
  // groups is ';'-separated: a member match, not a substring ("A" is not in "AB").
  if (q.group)
    w += " AND instr(';' || a.groups || ';', ';' || ? || ';') > 0", args.push_back(*q.group);
  if (!q.include_voided) w += " AND a.voided = 0";
  return w;
}
}  // namespace

Status ValidateEmployeeId(const std::string& id) {
  if (id.empty() || id.size() > 64)
    return Status::InvalidArgument("employee id must be 1 to 64 characters");
  if (!std::isalnum(static_cast<unsigned char>(id[0])))
    return Status::InvalidArgument("employee id '" + id + "' must start with a letter or digit");
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return Status::InvalidArgument("employee id '" + id +
                                     "' may hold only letters, digits, '_', '-' and '.'");
  return Status::Ok();
}

Status RetiredIdRefused(const std::string& id) {
  return Status::AlreadyExists("employee id " + id +
                               " belonged to a deleted person (retired) and their attendance "
                               "keeps it; re-use it only on purpose (--reuse-retired-id, or "
                               "reuse_retired_id=true over HTTP)")
      .WithReason("retired_id");
}

Status ValidateName(const std::string& name, const char* what) {
  if (name.empty() || name.size() > 200)
    return Status::InvalidArgument(std::string(what) + " must be 1 to 200 bytes");
  size_t i = 0;
  while (i < name.size()) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f)
      return Status::InvalidArgument(std::string(what) + " must not contain control characters");
    const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > name.size())
      return Status::InvalidArgument(std::string(what) + " is not valid UTF-8");
    for (int k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(name[i + k]) >> 6) != 2)
        return Status::InvalidArgument(std::string(what) + " is not valid UTF-8");
    i += len;
  }
  return Status::Ok();
}

Result<std::unique_ptr<SqliteStore>> OpenSqliteStore(const StoreOptions& options) {
  auto impl = std::make_unique<SqliteStore::Impl>();
  impl->options = options;
  if (sqlite3_open_v2(options.path.c_str(), &impl->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = impl->db ? sqlite3_errmsg(impl->db) : "out of memory";
    sqlite3_close(impl->db);
    return Status::IoError("cannot open database " + options.path + ": " + msg);
  }
  sqlite3* db = impl->db;
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(impl)));
  auto prefix = [&](const Status& s) { return s.WithPrefix(options.path); };
  Status st = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  if (!st.ok()) return prefix(st);
  int version = 0;
  auto read_version = [&]() -> Status {
    Stmt s(db, "PRAGMA user_version");
    if (s.Step()) version = static_cast<int>(s.Int(0));
    return s.status("reading schema version");
  };
  st = read_version();
  if (!st.ok()) return prefix(st);
  if (version > kSchemaVersion)
    return Status::InvalidArgument(options.path + ": database schema version " +
                                   std::to_string(version) + " is newer than this faceatt (" +
                                   std::to_string(kSchemaVersion) + "); upgrade faceatt");
  while (version < kSchemaVersion) {
    // Several processes (serve nodes, a CLI job) may open a new file at once:
    // the version is read again under the write lock, so each step runs once.
    st = store->impl_->Transaction([&] {
      FACEATT_RETURN_IF_ERROR(read_version());
      if (version >= kSchemaVersion) return Status::Ok();
      FACEATT_RETURN_IF_ERROR(Exec(db, kMigrations[version]));
      FACEATT_RETURN_IF_ERROR(
          Exec(db, ("PRAGMA user_version = " + std::to_string(version + 1)).c_str()));
      ++version;
      return Status::Ok();
    });
    if (!st.ok())
      return prefix(st.WithPrefix("migrating to schema " + std::to_string(version + 1)));
  }
  store->impl_->version = version;
  return store;
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() {
  if (impl_ && impl_->db) sqlite3_close_v2(impl_->db);
}
int SqliteStore::schema_version() const { return impl_->version; }

Result<User> SqliteStore::CreateUser(const NewUser& user,
                                     const std::vector<StoredEmbedding>& embeddings) {
  FACEATT_RETURN_IF_ERROR(ValidateName(user.name));
  if (!user.department.empty())
    FACEATT_RETURN_IF_ERROR(ValidateName(user.department, "department"));
  if (!user.employee_id.empty()) FACEATT_RETURN_IF_ERROR(ValidateEmployeeId(user.employee_id));
  std::lock_guard lock(impl_->mu);
  std::string id = user.employee_id;
  Status st = impl_->Transaction([&]() -> Status {
    int64_t generation = 1;
    if (id.empty()) {
      FACEATT_ASSIGN_OR_RETURN(id, impl_->NextEmployeeId());
    } else {
      FACEATT_ASSIGN_OR_RETURN(auto retired, impl_->RetiredGeneration(id));
      if (retired && !user.reuse_retired_id) return RetiredIdRefused(id);
      if (retired) generation = *retired + 1;
    }
    Stmt s(impl_->db,
           "INSERT INTO users (employee_id, name, department, created_at, updated_at, generation) "
           "VALUES (?,?,?,?,?,?)");
    const std::string now = impl_->Now();
    s.Bind(1, id).Bind(2, user.name).Bind(3, user.department).Bind(4, now).Bind(5, now);
    s.Bind(6, generation);
    s.Step();
    Status ins = s.status("creating person");
    if (ins.code() == Code::kAlreadyExists)
      return Status::AlreadyExists("employee id " + id + " is already taken");
    FACEATT_RETURN_IF_ERROR(ins);
    return impl_->InsertEmbeddings(sqlite3_last_insert_rowid(impl_->db), embeddings);
  });
  if (!st.ok()) return st;
  Stmt s(impl_->db, (std::string(kUserColumns) + "WHERE u.employee_id = ?").c_str());
  s.Bind(1, id);
  if (!s.Step()) return s.Error("reading new person");
  return Impl::ReadUser(s);
}

Status SqliteStore::ContinueIdsAfter(int64_t number) {
  if (number < 0) return Status::InvalidArgument("id number must not be negative");
  std::lock_guard lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    Stmt s(impl_->db, "UPDATE id_sequence SET next = max(next, ?) WHERE name = 'employee_id'");
    s.Bind(1, number + 1);
    s.Step();
    return s.status("advancing id sequence");
  });
}

Status SqliteStore::AddEmbeddings(const std::string& employee_id,
                                  const std::vector<StoredEmbedding>& embeddings) {
  std::lock_guard lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(int64_t row, impl_->UserRowId(employee_id));
    FACEATT_RETURN_IF_ERROR(impl_->InsertEmbeddings(row, embeddings));
    Stmt s(impl_->db, "UPDATE users SET updated_at = ? WHERE id = ?");
    s.Bind(1, impl_->Now()).Bind(2, row);
    s.Step();
    return s.status("updating person");
  });
}

Result<User> SqliteStore::GetUser(const std::string& employee_id) {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, (std::string(kUserColumns) + "WHERE u.employee_id = ?").c_str());
  s.Bind(1, employee_id);
  if (s.Step()) return Impl::ReadUser(s);
  FACEATT_RETURN_IF_ERROR(s.status("reading person"));
  return Status::NotFound("no person with employee id " + employee_id);
}

Result<std::vector<User>> SqliteStore::ListUsers() {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, (std::string(kUserColumns) + "ORDER BY u.employee_id").c_str());
  std::vector<User> out;
  while (s.Step()) out.push_back(Impl::ReadUser(s));
  FACEATT_RETURN_IF_ERROR(s.status("listing people"));
  return out;
}

Status SqliteStore::UpdateUser(const std::string& employee_id,
                               const std::optional<std::string>& name,
                               const std::optional<std::string>& department,
                               const std::optional<bool>& active) {
  if (name) FACEATT_RETURN_IF_ERROR(ValidateName(*name));
  if (department && !department->empty())
    FACEATT_RETURN_IF_ERROR(ValidateName(*department, "department"));
  std::lock_guard lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(int64_t row, impl_->UserRowId(employee_id));
    Stmt s(impl_->db,
           "UPDATE users SET name = coalesce(?1, name), department = coalesce(?2, department), "
           "active = coalesce(?3, active), updated_at = ?4 WHERE id = ?5");
    s.Bind(1, name).Bind(2, department);
    if (active) s.Bind(3, *active ? 1 : 0);
    s.Bind(4, impl_->Now()).Bind(5, row);
    s.Step();
    return s.status("updating person");
  });
}

Status SqliteStore::SetGroupMembership(const std::string& employee_id, const std::string& group,
                                       bool member) {
  FACEATT_RETURN_IF_ERROR(ValidateName(group, "group"));
  std::lock_guard lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(int64_t row, impl_->UserRowId(employee_id));
    Stmt s(impl_->db, member ? "INSERT OR IGNORE INTO user_groups (user_id, name) VALUES (?1, ?2)"
                             : "DELETE FROM user_groups WHERE user_id = ?1 AND name = ?2");
    s.Bind(1, row).Bind(2, group);
    s.Step();
    return s.status("changing a group");
  });
}

Result<std::map<std::string, std::vector<std::string>>> SqliteStore::ListGroups() {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db,
         "SELECT g.name, u.employee_id FROM user_groups g JOIN users u ON u.id = g.user_id "
         "ORDER BY g.name, u.employee_id");
  std::map<std::string, std::vector<std::string>> out;
  while (s.Step()) out[s.Text(0)].push_back(s.Text(1));
  FACEATT_RETURN_IF_ERROR(s.status("listing groups"));
  return out;
}

Result<std::vector<StoredEmbedding>> SqliteStore::DeleteUser(const std::string& employee_id,
                                                             bool purge_attendance) {
  std::lock_guard lock(impl_->mu);
  std::vector<StoredEmbedding> removed;
  Status st = impl_->Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(int64_t row, impl_->UserRowId(employee_id));
    FACEATT_ASSIGN_OR_RETURN(removed,
                             impl_->SelectEmbeddings("WHERE u.id = ?", std::to_string(row)));
    Stmt retire(impl_->db, kRetireIds);  // before the delete: it reads the generation
    retire.Bind(1, employee_id);
    retire.Step();
    FACEATT_RETURN_IF_ERROR(retire.status("retiring id"));
    Stmt del(impl_->db, "DELETE FROM users WHERE id = ?");
    del.Bind(1, row);
    del.Step();
    FACEATT_RETURN_IF_ERROR(del.status("deleting person"));
    if (purge_attendance) {
      Stmt audit(impl_->db,
                 "DELETE FROM attendance_audit WHERE attendance_id IN "
                 "(SELECT id FROM attendance WHERE employee_id = ?)");
      audit.Bind(1, employee_id);
      audit.Step();
      FACEATT_RETURN_IF_ERROR(audit.status("purging attendance corrections"));
      Stmt purge(impl_->db, "DELETE FROM attendance WHERE employee_id = ?");
      purge.Bind(1, employee_id);
      purge.Step();
      FACEATT_RETURN_IF_ERROR(purge.status("purging attendance"));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return removed;
}

Result<std::vector<StoredEmbedding>> SqliteStore::DeleteAllUsers() {
  std::lock_guard lock(impl_->mu);
  std::vector<StoredEmbedding> removed;
  Status st = impl_->Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(removed, impl_->SelectEmbeddings("", ""));
    Stmt retire(impl_->db, kRetireIds);
    retire.Bind(1, "");
    retire.Step();
    FACEATT_RETURN_IF_ERROR(retire.status("retiring ids"));
    return Exec(impl_->db, "DELETE FROM users");
  });
  if (!st.ok()) return st;
  return removed;
}

Result<std::vector<StoredEmbedding>> SqliteStore::ListEmbeddings(const std::string& employee_id) {
  std::lock_guard lock(impl_->mu);
  FACEATT_ASSIGN_OR_RETURN(int64_t row, impl_->UserRowId(employee_id));
  return impl_->SelectEmbeddings("WHERE u.id = ?", std::to_string(row));
}

Result<StoredEmbedding> SqliteStore::DeleteEmbedding(const std::string& employee_id,
                                                     int64_t embedding_id) {
  std::lock_guard lock(impl_->mu);
  StoredEmbedding removed;
  Status st = impl_->Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(int64_t row, impl_->UserRowId(employee_id));
    FACEATT_ASSIGN_OR_RETURN(auto all,
                             impl_->SelectEmbeddings("WHERE u.id = ?", std::to_string(row)));
    FACEATT_ASSIGN_OR_RETURN(removed, PickEmbeddingToDelete(all, employee_id, embedding_id));
    Stmt del(impl_->db, "DELETE FROM embeddings WHERE id = ?");
    del.Bind(1, embedding_id);
    del.Step();
    return del.status("deleting embedding");
  });
  if (!st.ok()) return st;
  return removed;
}

Result<std::vector<StoredEmbedding>> SqliteStore::LoadEmbeddings(const std::string& model_id) {
  std::lock_guard lock(impl_->mu);
  if (model_id.empty()) return impl_->SelectEmbeddings("WHERE u.active = 1", "");
  return impl_->SelectEmbeddings("WHERE u.active = 1 AND e.model_id = ?", model_id);
}

Result<std::vector<std::string>> SqliteStore::UsersNeedingReenrollment(
    const std::string& model_id) {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db,
         "SELECT u.employee_id FROM users u WHERE EXISTS (SELECT 1 FROM embeddings e WHERE "
         "e.user_id = u.id) AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.user_id = u.id "
         "AND e.model_id = ?) ORDER BY u.employee_id");
  s.Bind(1, model_id);
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.Text(0));
  FACEATT_RETURN_IF_ERROR(s.status("checking models"));
  return out;
}

Result<std::optional<std::string>> SqliteStore::FindImage(const std::string& sha256,
                                                          const std::string& model_id) {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db,
         "SELECT u.employee_id FROM embeddings e JOIN users u ON u.id = e.user_id "
         "WHERE e.source_sha256 = ? AND e.model_id = ? LIMIT 1");
  s.Bind(1, sha256).Bind(2, model_id);
  if (s.Step()) return std::optional<std::string>(s.Text(0));
  FACEATT_RETURN_IF_ERROR(s.status("looking up image"));
  return std::optional<std::string>();
}

namespace {

Status CheckAttendance(const AttendanceRecord& r) {
  if (r.type != "" && r.type != "IN" && r.type != "OUT")
    return Status::InvalidArgument("attendance type must be IN or OUT, not '" + r.type + "'");
  if (r.status != kStatusSuccess && r.status != kStatusUnknown && r.status != kStatusFailed)
    return Status::InvalidArgument("attendance status must be success, unknown or failed");
  return Status::Ok();
}

// The caller holds Impl::mu.
// The name and generation are those of the person the id names now (kept as
// given when the caller names the row, e.g. an import of old records).
Result<int64_t> InsertAttendance(sqlite3* db, const AttendanceRecord& r, int64_t ts) {
  Stmt s(db,
         "INSERT INTO attendance (employee_id, type, status, reason, device_id, distance, "
         "ts_server, ts_client, image_ref, added_by_admin, name, generation, groups) "
         "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10, "
         "coalesce(nullif(?11, ''), (SELECT name FROM users WHERE employee_id = ?1), ''), "
         "coalesce((SELECT generation FROM users WHERE employee_id = ?1), "
         "(SELECT generation FROM retired_ids WHERE employee_id = ?1), 1), "
         "coalesce((SELECT group_concat(name, ';') FROM (SELECT g.name FROM user_groups g"
         " JOIN users u ON u.id = g.user_id WHERE u.employee_id = ?1 ORDER BY g.name)), ''))");
  s.Bind(1, r.employee_id).Bind(2, r.type).Bind(3, r.status).Bind(4, r.reason);
  s.Bind(5, r.device_id).Bind(6, r.distance).Bind(7, FormatUtc(ts)).Bind(8, r.ts_client);
  s.Bind(9, r.image_ref).Bind(10, r.added_by_admin ? 1 : 0).Bind(11, r.name_at_event);
  s.Step();
  FACEATT_RETURN_IF_ERROR(s.status("recording attendance"));
  return sqlite3_last_insert_rowid(db);
}

// Rows with the current name of the same person (same id and generation).
const char* kAttendanceColumns =
    "SELECT a.id, a.employee_id, a.type, a.status, a.reason, a.device_id, a.distance, "
    "a.ts_server, a.ts_client, a.image_ref, a.name, a.generation, u.name, a.voided, "
    "(SELECT COUNT(*) FROM attendance_audit x WHERE x.attendance_id = a.id AND x.action != 'add'), "
    "a.added_by_admin, a.groups FROM attendance a LEFT JOIN users u ON u.employee_id = "
    "a.employee_id AND "
    "u.generation = a.generation";

AttendanceRecord ReadAttendance(const Stmt& s) {
  AttendanceRecord r;
  r.id = s.Int(0);
  r.employee_id = s.OptText(1);
  r.type = s.Text(2);
  r.status = s.Text(3);
  r.reason = s.Text(4);
  r.device_id = s.Text(5);
  r.distance = s.OptDouble(6);
  auto ts = ParseTimestamp(s.Text(7));
  r.ts_server_ms = ts.ok() ? *ts : 0;
  r.ts_client = s.Text(8);
  r.image_ref = s.Text(9);
  r.name_at_event = s.Text(10);
  r.generation = static_cast<int>(s.Int(11));
  r.current_name = s.OptText(12);
  r.voided = s.Int(13) != 0;
  r.corrections = static_cast<int>(s.Int(14));
  r.added_by_admin = s.Int(15) != 0;
  r.groups = s.Text(16);
  return r;
}

// The caller holds Impl::mu.
Result<int64_t> InsertOutbox(sqlite3* db, const OutboxItem& item, const std::string& now) {
  Stmt s(db,
         "INSERT INTO webhook_outbox (url, event, body, status, attempts, next_attempt_at, "
         "created_at) VALUES (?,?,?,'pending',0,?,?)");
  s.Bind(1, item.url).Bind(2, item.event).Bind(3, item.body);
  s.Bind(4, item.next_attempt_ms > 0 ? FormatUtc(item.next_attempt_ms) : now).Bind(5, now);
  s.Step();
  FACEATT_RETURN_IF_ERROR(s.status("queueing webhook"));
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db));
}

// Whether the events may be stored under their cooldown key (the first
// item's; all items of one write announce one event): no event of the key was
// stored within cooldown_ms before now_ms. Taking it records now_ms. The caller
// holds Impl::mu inside a write transaction.
Result<bool> TakeCooldown(sqlite3* db, const std::vector<OutboxItem>& items, int64_t now_ms) {
  if (items.empty() || items.front().cooldown_key.empty() || items.front().cooldown_ms <= 0)
    return true;
  Stmt s(db,
         "INSERT INTO webhook_cooldown (key, last_ms) VALUES (?1, ?2) ON CONFLICT (key) DO "
         "UPDATE SET last_ms = excluded.last_ms WHERE webhook_cooldown.last_ms <= ?2 - ?3");
  s.Bind(1, items.front().cooldown_key).Bind(2, now_ms).Bind(3, items.front().cooldown_ms);
  s.Step();
  FACEATT_RETURN_IF_ERROR(s.status("checking the webhook cooldown"));
  if (sqlite3_changes(db) == 0) return false;
  // Keys come from clients (device ids): expired ones go before the table grows.
  Stmt sweep(db, "DELETE FROM webhook_cooldown WHERE last_ms <= ?1 - ?2");
  sweep.Bind(1, now_ms).Bind(2, items.front().cooldown_ms);
  sweep.Step();
  FACEATT_RETURN_IF_ERROR(sweep.status("sweeping the webhook cooldown"));
  return true;
}

// The caller holds Impl::mu.
Result<std::vector<AttendanceRecord>> SelectAttendance(sqlite3* db, const AttendanceQuery& q) {
  std::vector<std::string> args;
  std::string sql = std::string(kAttendanceColumns) + AttendanceWhere(q, args) +
                    " ORDER BY a.ts_server " + (q.newest_first ? "DESC" : "ASC") + ", a.id " +
                    (q.newest_first ? "DESC" : "ASC");
  if (q.limit > 0)
    sql += " LIMIT " + std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
  Stmt s(db, sql.c_str());
  for (size_t i = 0; i < args.size(); ++i) s.Bind(static_cast<int>(i + 1), args[i]);
  std::vector<AttendanceRecord> out;
  while (s.Step()) out.push_back(ReadAttendance(s));
  FACEATT_RETURN_IF_ERROR(s.status("reading attendance"));
  return out;
}

}  // namespace

Result<int64_t> SqliteStore::AddAttendance(const AttendanceRecord& r) {
  FACEATT_RETURN_IF_ERROR(CheckAttendance(r));
  std::lock_guard lock(impl_->mu);
  return InsertAttendance(impl_->db, r,
                          r.ts_server_ms ? r.ts_server_ms : impl_->clock().NowMillis());
}

Result<int64_t> SqliteStore::AddAttendanceAfter(const std::optional<AttendanceQuery>& recent,
                                                const AttendanceDecider& decide) {
  std::lock_guard lock(impl_->mu);
  int64_t id = 0;
  FACEATT_RETURN_IF_ERROR(impl_->Transaction([&]() -> Status {
    std::vector<AttendanceRecord> rows;
    if (recent) {
      FACEATT_ASSIGN_OR_RETURN(rows, SelectAttendance(impl_->db, *recent));
    }
    FACEATT_ASSIGN_OR_RETURN(AttendanceWrite w, decide(rows));
    FACEATT_RETURN_IF_ERROR(CheckAttendance(w.record));
    const int64_t ts = w.record.ts_server_ms ? w.record.ts_server_ms : impl_->clock().NowMillis();
    FACEATT_ASSIGN_OR_RETURN(id, InsertAttendance(impl_->db, w.record, ts));
    FACEATT_ASSIGN_OR_RETURN(bool send, TakeCooldown(impl_->db, w.outbox, ts));
    if (send)
      for (const auto& item : w.outbox)
        FACEATT_RETURN_IF_ERROR(InsertOutbox(impl_->db, item, impl_->Now()));
    if (w.events_stored) *w.events_stored = send ? static_cast<int>(w.outbox.size()) : 0;
    return Status::Ok();
  }));
  return id;
}

Result<std::vector<AttendanceRecord>> SqliteStore::QueryAttendance(const AttendanceQuery& q) {
  std::lock_guard lock(impl_->mu);
  return SelectAttendance(impl_->db, q);
}

Result<int64_t> SqliteStore::CountAttendance(const AttendanceQuery& q) {
  std::vector<std::string> args;
  std::string sql = "SELECT COUNT(*) FROM attendance a" + AttendanceWhere(q, args);
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, sql.c_str());
  for (size_t i = 0; i < args.size(); ++i) s.Bind(static_cast<int>(i + 1), args[i]);
  if (s.Step()) return s.Int(0);
  return s.Error("counting attendance");
}

Result<bool> SqliteStore::IsRetiredId(const std::string& employee_id) {
  std::lock_guard lock(impl_->mu);
  FACEATT_ASSIGN_OR_RETURN(auto generation, impl_->RetiredGeneration(employee_id));
  return generation.has_value();
}

namespace {

Status CheckCorrection(const Correction& by) {
  FACEATT_RETURN_IF_ERROR(ValidateName(by.actor, "who corrects (actor)"));
  return ValidateName(by.reason, "reason");
}

// The caller holds Impl::mu.
Result<AttendanceRecord> SelectOne(sqlite3* db, int64_t id) {
  Stmt s(db, (std::string(kAttendanceColumns) + " WHERE a.id = ?").c_str());
  s.Bind(1, id);
  if (s.Step()) return ReadAttendance(s);
  FACEATT_RETURN_IF_ERROR(s.status("reading attendance"));
  return Status::NotFound("no attendance record " + std::to_string(id));
}

// The caller holds Impl::mu, inside a transaction.
Status InsertAudit(sqlite3* db, int64_t row, const char* action, const Correction& by,
                   const std::string& at, const nlohmann::json& old_value,
                   const nlohmann::json& new_value) {
  Stmt s(db,
         "INSERT INTO attendance_audit (attendance_id, action, actor, at, reason, old_value, "
         "new_value) VALUES (?,?,?,?,?,?,?)");
  s.Bind(1, row).Bind(2, action).Bind(3, by.actor).Bind(4, at).Bind(5, by.reason);
  s.Bind(6, old_value.is_null() ? "" : old_value.dump());
  s.Bind(7, new_value.is_null() ? "" : new_value.dump());
  s.Step();
  return s.status("recording the correction");
}

nlohmann::json TypeAndTime(const AttendanceRecord& r) {
  return {{"type", r.type}, {"ts_server", FormatUtc(r.ts_server_ms)}};
}

}  // namespace

Result<int64_t> SqliteStore::AddCorrectedAttendance(const AttendanceRecord& record,
                                                    const Correction& by) {
  FACEATT_RETURN_IF_ERROR(CheckCorrection(by));
  AttendanceRecord r = record;
  r.status = kStatusSuccess;
  r.added_by_admin = true;
  if (!r.employee_id) return Status::InvalidArgument("an added record needs an employee id");
  if (r.type != "IN" && r.type != "OUT")
    return Status::InvalidArgument("an added record's type must be IN or OUT");
  if (r.ts_server_ms <= 0) return Status::InvalidArgument("an added record needs its time");
  std::lock_guard lock(impl_->mu);
  int64_t id = 0;
  FACEATT_RETURN_IF_ERROR(impl_->Transaction([&]() -> Status {
    auto person = impl_->UserRowId(*r.employee_id);  // not .status() of a temporary
    if (!person.ok()) return person.status();
    FACEATT_ASSIGN_OR_RETURN(id, InsertAttendance(impl_->db, r, r.ts_server_ms));
    nlohmann::json added = TypeAndTime(r);
    added["employee_id"] = *r.employee_id;
    return InsertAudit(impl_->db, id, kAuditAdd, by, impl_->Now(), nullptr, added);
  }));
  return id;
}

Status SqliteStore::VoidAttendance(int64_t id, const Correction& by) {
  FACEATT_RETURN_IF_ERROR(CheckCorrection(by));
  std::lock_guard lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(AttendanceRecord r, SelectOne(impl_->db, id));
    if (r.voided)
      return Status::Conflict("attendance record " + std::to_string(id) + " is already voided");
    Stmt s(impl_->db, "UPDATE attendance SET voided = 1 WHERE id = ?");
    s.Bind(1, id);
    s.Step();
    FACEATT_RETURN_IF_ERROR(s.status("voiding attendance"));
    return InsertAudit(impl_->db, id, kAuditVoid, by, impl_->Now(), {{"voided", false}},
                       {{"voided", true}});
  });
}

Status SqliteStore::AmendAttendance(int64_t id, const std::optional<std::string>& type,
                                    const std::optional<int64_t>& ts_ms, const Correction& by) {
  if (!type && !ts_ms) return Status::InvalidArgument("amend needs a new type or a new time");
  if (type && *type != "IN" && *type != "OUT")
    return Status::InvalidArgument("attendance type must be IN or OUT, not '" + *type + "'");
  if (ts_ms && *ts_ms <= 0) return Status::InvalidArgument("amend: the new time is not valid");
  FACEATT_RETURN_IF_ERROR(CheckCorrection(by));
  std::lock_guard lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(AttendanceRecord r, SelectOne(impl_->db, id));
    if (r.voided)
      return Status::Conflict("attendance record " + std::to_string(id) +
                              " is voided; add a new record instead");
    if (r.status != kStatusSuccess)
      return Status::InvalidArgument("only a recognised (success) record can be amended");
    AttendanceRecord after = r;
    if (type) after.type = *type;
    if (ts_ms) after.ts_server_ms = *ts_ms;
    Stmt s(impl_->db, "UPDATE attendance SET type = ?, ts_server = ? WHERE id = ?");
    s.Bind(1, after.type).Bind(2, FormatUtc(after.ts_server_ms)).Bind(3, id);
    s.Step();
    FACEATT_RETURN_IF_ERROR(s.status("amending attendance"));
    return InsertAudit(impl_->db, id, kAuditAmend, by, impl_->Now(), TypeAndTime(r),
                       TypeAndTime(after));
  });
}

Result<AttendanceRecord> SqliteStore::GetAttendance(int64_t id) {
  std::lock_guard lock(impl_->mu);
  return SelectOne(impl_->db, id);
}

Result<std::vector<AuditEntry>> SqliteStore::AttendanceAudit(int64_t id) {
  std::lock_guard lock(impl_->mu);
  auto row = SelectOne(impl_->db, id);  // kNotFound for no such row
  if (!row.ok()) return row.status();
  Stmt s(impl_->db,
         "SELECT id, attendance_id, action, actor, at, reason, old_value, new_value FROM "
         "attendance_audit WHERE attendance_id = ? ORDER BY id");
  s.Bind(1, id);
  std::vector<AuditEntry> out;
  while (s.Step()) {
    AuditEntry e;
    e.id = s.Int(0);
    e.attendance_id = s.Int(1);
    e.action = s.Text(2);
    e.actor = s.Text(3);
    auto at = ParseTimestamp(s.Text(4));
    e.at_ms = at.ok() ? *at : 0;
    e.reason = s.Text(5);
    e.old_value = s.Text(6);
    e.new_value = s.Text(7);
    out.push_back(std::move(e));
  }
  FACEATT_RETURN_IF_ERROR(s.status("reading corrections"));
  return out;
}

Result<int64_t> SqliteStore::CountUsers() {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, "SELECT COUNT(*) FROM users");
  if (s.Step()) return s.Int(0);
  return s.Error("counting people");
}

Result<int64_t> SqliteStore::CountEmbeddings() {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, "SELECT COUNT(*) FROM embeddings");
  if (s.Step()) return s.Int(0);
  return s.Error("counting embeddings");
}

Status SqliteStore::Backup(const std::string& destination) {
  // Copied into a temporary file and renamed when complete: a backup file that
  // exists is a whole one, whatever stopped the copy.
  const std::string tmp = destination + ".partial";
  std::remove(tmp.c_str());
  std::lock_guard lock(impl_->mu);
  sqlite3* dest = nullptr;
  if (sqlite3_open(tmp.c_str(), &dest) != SQLITE_OK) {
    sqlite3_close(dest);
    return Status::IoError("cannot create backup " + destination);
  }
  sqlite3_backup* b = sqlite3_backup_init(dest, "main", impl_->db, "main");
  int rc = SQLITE_ERROR;
  if (b) {
    rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
  }
  std::string msg = sqlite3_errmsg(dest);
  sqlite3_close(dest);
  if (rc != SQLITE_DONE) {
    std::remove(tmp.c_str());
    return Status::IoError("backup to " + destination + " failed: " + msg);
  }
  if (std::rename(tmp.c_str(), destination.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IoError("backup to " + destination + " failed: cannot rename " + tmp);
  }
  return Status::Ok();
}

Result<std::vector<FileRef>> SqliteStore::ListFileRefs() {
  std::lock_guard lock(impl_->mu);
  std::vector<FileRef> out;
  Stmt e(impl_->db,
         "SELECT id, source_path, source_sha256, thumbnail_path, crop_path FROM embeddings ORDER "
         "BY id");
  while (e.Step()) {
    const int64_t id = e.Int(0);
    if (!e.Text(1).empty()) out.push_back({"embeddings", "source_path", id, e.Text(1), e.Text(2)});
    if (!e.Text(3).empty()) out.push_back({"embeddings", "thumbnail_path", id, e.Text(3), ""});
    if (!e.Text(4).empty()) out.push_back({"embeddings", "crop_path", id, e.Text(4), ""});
  }
  FACEATT_RETURN_IF_ERROR(e.status("listing file references"));
  Stmt a(impl_->db, "SELECT id, image_ref FROM attendance WHERE image_ref != '' ORDER BY id");
  while (a.Step()) out.push_back({"attendance", "image_ref", a.Int(0), a.Text(1), ""});
  FACEATT_RETURN_IF_ERROR(a.status("listing file references"));
  return out;
}

Status SqliteStore::UpdateFileRef(const FileRef& ref, const std::string& new_path) {
  static const char* kAllowed[][2] = {{"embeddings", "source_path"},
                                      {"embeddings", "thumbnail_path"},
                                      {"embeddings", "crop_path"},
                                      {"attendance", "image_ref"}};
  bool known = false;
  for (const auto& a : kAllowed) known |= ref.table == a[0] && ref.column == a[1];
  if (!known)
    return Status::InvalidArgument("unknown file reference " + ref.table + "." + ref.column);
  std::lock_guard lock(impl_->mu);
  const std::string sql = "UPDATE " + ref.table + " SET " + ref.column + " = ? WHERE id = ?";
  Stmt s(impl_->db, sql.c_str());
  s.Bind(1, new_path).Bind(2, ref.row_id);
  s.Step();
  return s.status("updating file reference");
}

Status SqliteStore::ReplaceEmbedding(int64_t embedding_id, const StoredEmbedding& e) {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db,
         "UPDATE embeddings SET model_id = ?, vector = ?, quality = ?, source_sha256 = ?, "
         "thumbnail_path = ?, crop_path = ? WHERE id = ?");
  s.Bind(1, e.model_id).BindBlob(2, e.vector.data(), sizeof(float) * kEmbeddingDim);
  s.Bind(3, e.quality).Bind(4, e.source_sha256).Bind(5, e.thumbnail_path).Bind(6, e.crop_path);
  s.Bind(7, embedding_id);
  s.Step();
  return s.status("replacing embedding");
}

namespace {
const char* kOutboxColumns =
    "SELECT id, url, event, body, status, attempts, next_attempt_at, last_error, "
    "last_http_status, created_at, delivered_at FROM webhook_outbox ";

OutboxItem ReadOutbox(const Stmt& s) {
  OutboxItem o;
  o.id = s.Int(0);
  o.url = s.Text(1);
  o.event = s.Text(2);
  o.body = s.Text(3);
  o.status = s.Text(4);
  o.attempts = static_cast<int>(s.Int(5));
  auto ts = [](const std::string& t) -> int64_t {
    auto r = ParseTimestamp(t);
    return r.ok() ? *r : 0;
  };
  o.next_attempt_ms = ts(s.Text(6));
  o.last_error = s.Text(7);
  o.last_http_status = static_cast<int>(s.Int(8));
  o.created_ms = ts(s.Text(9));
  if (auto d = s.OptText(10)) o.delivered_ms = ts(*d);
  return o;
}
}  // namespace

Result<std::vector<OutboxItem>> SqliteStore::DueOutbox(int64_t now_ms, int limit) {
  std::lock_guard lock(impl_->mu);
  const std::string sql = std::string(kOutboxColumns) +
                          "WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?";
  Stmt s(impl_->db, sql.c_str());
  s.Bind(1, FormatUtc(now_ms)).Bind(2, limit);
  std::vector<OutboxItem> out;
  while (s.Step()) out.push_back(ReadOutbox(s));
  FACEATT_RETURN_IF_ERROR(s.status("reading webhook outbox"));
  return out;
}

Result<std::vector<OutboxItem>> SqliteStore::ClaimOutbox(int64_t now_ms, int limit,
                                                         const std::string& owner,
                                                         int64_t lease_ms) {
  std::lock_guard lock(impl_->mu);
  std::vector<OutboxItem> out;
  FACEATT_RETURN_IF_ERROR(impl_->Transaction([&]() -> Status {
    const std::string now = FormatUtc(now_ms);
    const std::string sql = std::string(kOutboxColumns) +
                            "WHERE status = 'pending' AND next_attempt_at <= ?1 AND "
                            "(lease_owner = '' OR lease_owner = ?2 OR lease_until <= ?1) "
                            "ORDER BY id LIMIT ?3";
    Stmt s(impl_->db, sql.c_str());
    s.Bind(1, now).Bind(2, owner).Bind(3, limit);
    while (s.Step()) out.push_back(ReadOutbox(s));
    FACEATT_RETURN_IF_ERROR(s.status("reading webhook outbox"));
    for (const auto& item : out) {
      Stmt lease(impl_->db,
                 "UPDATE webhook_outbox SET lease_owner = ?, lease_until = ? WHERE id = ?");
      lease.Bind(1, owner).Bind(2, FormatUtc(now_ms + lease_ms)).Bind(3, item.id);
      lease.Step();
      FACEATT_RETURN_IF_ERROR(lease.status("leasing webhook outbox"));
    }
    return Status::Ok();
  }));
  return out;
}

namespace {
// The process's mutex and, for a file, an flock() that closing the file releases
// (also when the process dies).
class FileEnrollmentLock : public PeopleStore::EnrollmentLock {
 public:
  FileEnrollmentLock(std::unique_lock<std::mutex> held, int fd) : held_(std::move(held)), fd_(fd) {}
  ~FileEnrollmentLock() override {
    if (fd_ >= 0) close(fd_);
  }

 private:
  std::unique_lock<std::mutex> held_;
  int fd_;
};
}  // namespace

Result<std::unique_ptr<PeopleStore::EnrollmentLock>> SqliteStore::LockEnrollment() {
  std::unique_lock<std::mutex> held(impl_->enroll_mu);
  int fd = -1;
  const std::string& path = impl_->options.path;
  if (!path.empty() && path != ":memory:") {
    const std::string lock_path = path + ".enroll-lock";
    fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::IoError("cannot open " + lock_path + ": " + std::strerror(errno));
    while (flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      close(fd);
      return Status::IoError("cannot lock " + lock_path + ": " + std::strerror(error));
    }
  }
  return std::unique_ptr<EnrollmentLock>(new FileEnrollmentLock(std::move(held), fd));
}

Result<int64_t> SqliteStore::GalleryVersion() {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, "SELECT version FROM gallery_version");
  if (s.Step()) return s.Int(0);
  return s.Error("reading the gallery version");
}

Result<int64_t> SqliteStore::WaitForGalleryChange(int64_t known, int timeout_ms) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
  for (;;) {
    FACEATT_ASSIGN_OR_RETURN(int64_t version, GalleryVersion());
    if (version != known || std::chrono::steady_clock::now() >= deadline) return version;
    std::this_thread::sleep_for(std::chrono::milliseconds(kGalleryPollMs));
  }
}

Status SqliteStore::UpdateOutbox(const OutboxItem& item) {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db,
         "UPDATE webhook_outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
         "last_http_status = ?, delivered_at = ?, lease_owner = '', lease_until = '' WHERE id = ?");
  s.Bind(1, item.status).Bind(2, item.attempts).Bind(3, FormatUtc(item.next_attempt_ms));
  s.Bind(4, item.last_error).Bind(5, item.last_http_status);
  s.Bind(6, item.delivered_ms > 0 ? std::optional<std::string>(FormatUtc(item.delivered_ms))
                                  : std::optional<std::string>());
  s.Bind(7, item.id);
  s.Step();
  FACEATT_RETURN_IF_ERROR(s.status("updating webhook outbox"));
  if (sqlite3_changes(impl_->db) == 0)
    return Status::NotFound("no webhook delivery " + std::to_string(item.id));
  return Status::Ok();
}

Result<std::vector<OutboxItem>> SqliteStore::ListOutbox(const std::string& status, int limit) {
  std::lock_guard lock(impl_->mu);
  const std::string sql =
      std::string(kOutboxColumns) + "WHERE (?1 = '' OR status = ?1) ORDER BY id DESC LIMIT ?2";
  Stmt s(impl_->db, sql.c_str());
  s.Bind(1, status).Bind(2, limit <= 0 ? -1 : limit);
  std::vector<OutboxItem> out;
  while (s.Step()) out.push_back(ReadOutbox(s));
  FACEATT_RETURN_IF_ERROR(s.status("listing webhook outbox"));
  return out;
}

Result<int64_t> SqliteStore::CountOutbox(const std::string& status) {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, "SELECT COUNT(*) FROM webhook_outbox WHERE (?1 = '' OR status = ?1)");
  s.Bind(1, status);
  if (s.Step()) return s.Int(0);
  return s.Error("counting webhook outbox");
}

Status SqliteStore::Check() {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, "PRAGMA quick_check");
  if (!s.Step()) return s.Error("checking database");
  if (s.Text(0) != "ok") return Status::Corruption("database check failed: " + s.Text(0));
  return Status::Ok();
}

namespace {
std::string ColumnList(const CopyTable& t) {
  std::string cols;
  for (const auto& c : t.columns) cols += std::string(cols.empty() ? "" : ", ") + c.name;
  return cols;
}
}  // namespace

Result<std::vector<TableData>> SqliteStore::ExportTables() {
  std::lock_guard lock(impl_->mu);
  std::vector<TableData> out;
  FACEATT_RETURN_IF_ERROR(Exec(impl_->db, "BEGIN"));  // one snapshot for every table
  Status st = [&]() -> Status {
    for (const CopyTable& t : CopyTables()) {
      TableData data{t.name, {}};
      const std::string sql =
          "SELECT " + ColumnList(t) + " FROM " + t.name + " ORDER BY " + t.order_by;
      Stmt s(impl_->db, sql.c_str());
      while (s.Step()) {
        TableRow row;
        for (int i = 0; i < static_cast<int>(t.columns.size()); ++i) {
          if (!s.OptText(i)) {
            row.emplace_back();
          } else if (t.columns[i].kind == 'i') {
            row.emplace_back(std::to_string(s.Int(i)));
          } else if (t.columns[i].kind == 'r') {
            row.emplace_back(FormatReal(s.Double(i)));
          } else {  // text and bytes alike: the stored bytes
            row.emplace_back(s.Text(i));
          }
        }
        data.rows.push_back(std::move(row));
      }
      FACEATT_RETURN_IF_ERROR(s.status("reading table"));
      out.push_back(std::move(data));
    }
    return Status::Ok();
  }();
  (void)Exec(impl_->db, st.ok() ? "COMMIT" : "ROLLBACK");
  if (!st.ok()) return st;
  return out;
}

Status SqliteStore::ImportTables(const std::vector<TableData>& tables) {
  std::lock_guard lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    const auto& specs = CopyTables();
    for (auto t = specs.rbegin(); t != specs.rend(); ++t)  // children first
      FACEATT_RETURN_IF_ERROR(Exec(impl_->db, (std::string("DELETE FROM ") + t->name).c_str()));
    for (const TableData& data : tables) {
      auto spec = std::find_if(specs.begin(), specs.end(),
                               [&](const CopyTable& t) { return data.name == t.name; });
      if (spec == specs.end()) return Status::InvalidArgument("unknown table " + data.name);
      std::string marks;
      for (size_t i = 0; i < spec->columns.size(); ++i) marks += i ? ",?" : "?";
      const std::string sql =
          "INSERT INTO " + data.name + " (" + ColumnList(*spec) + ") VALUES (" + marks + ")";
      for (const TableRow& row : data.rows) {
        if (row.size() != spec->columns.size())
          return Status::InvalidArgument("a row of " + data.name + " has the wrong columns");
        Stmt s(impl_->db, sql.c_str());
        for (int i = 0; i < static_cast<int>(row.size()); ++i) {
          const char kind = spec->columns[i].kind;
          if (!row[i])
            s.Bind(i + 1, std::optional<std::string>());
          else if (kind == 'i')
            s.Bind(i + 1, static_cast<int64_t>(std::strtoll(row[i]->c_str(), nullptr, 10)));
          else if (kind == 'r')
            s.Bind(i + 1, std::strtod(row[i]->c_str(), nullptr));
          else if (kind == 'b')
            s.BindBlob(i + 1, row[i]->data(), static_cast<int>(row[i]->size()));
          else
            s.Bind(i + 1, *row[i]);
        }
        s.Step();
        FACEATT_RETURN_IF_ERROR(s.status(("copying into " + data.name).c_str()));
      }
    }
    return Status::Ok();
  });
}

}  // namespace faceatt
