// PostgresStore: the Store contract (store.h) on PostgreSQL through libpq.
// The SQL mirrors sqlite_store.cc statement for statement; what differs is
// said where it differs (postgres_store.h's top comment lists it).
#include "faceatt/postgres_store.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>

#include "store/tables.h"

extern char** environ;

namespace faceatt {
namespace {

// Schema migrations: entry i brings the database from version i to i+1, with
// the meaning of the same entry of SQLite's kMigrations. Never edit a
// released entry; append a new one (to both backends).
// Text that is sorted or compared (ids, times, group names) is COLLATE "C":
// the byte order SQLite uses, whatever the database's locale.
const char* const kMigrations[] = {
    // 1: people, embeddings, attendance, id sequence.
    R"sql(
CREATE TABLE users (
  id BIGSERIAL PRIMARY KEY,
  employee_id TEXT COLLATE "C" NOT NULL UNIQUE,
  name TEXT NOT NULL,
  department TEXT NOT NULL DEFAULT '',
  active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE embeddings (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  model_id TEXT NOT NULL,
  vector BYTEA NOT NULL CHECK (length(vector) = 512),
  quality DOUBLE PRECISION NOT NULL DEFAULT 0,
  source_path TEXT NOT NULL DEFAULT '',
  source_sha256 TEXT NOT NULL DEFAULT '',
  thumbnail_path TEXT NOT NULL DEFAULT '',
  crop_path TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX embeddings_user ON embeddings(user_id);
CREATE INDEX embeddings_sha ON embeddings(source_sha256, model_id);
CREATE TABLE attendance (
  id BIGSERIAL PRIMARY KEY,
  employee_id TEXT COLLATE "C",
  type TEXT NOT NULL DEFAULT '' CHECK (type IN ('', 'IN', 'OUT')),
  status TEXT NOT NULL CHECK (status IN ('success', 'unknown', 'failed')),
  reason TEXT NOT NULL DEFAULT '',
  device_id TEXT NOT NULL DEFAULT '',
  distance DOUBLE PRECISION,
  ts_server TEXT COLLATE "C" NOT NULL,
  ts_client TEXT NOT NULL DEFAULT '',
  image_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attendance_ts ON attendance(ts_server);
CREATE INDEX attendance_employee ON attendance(employee_id, ts_server);
CREATE TABLE id_sequence (name TEXT PRIMARY KEY, next BIGINT NOT NULL);
INSERT INTO id_sequence VALUES ('employee_id', 1);
CREATE TABLE retired_ids (employee_id TEXT COLLATE "C" PRIMARY KEY);
)sql",
    // 2: webhook outbox. lease_until (ms; PostgreSQL only): a node's claim
    // on a due row, so no other node delivers it until the lease ends.
    R"sql(
CREATE TABLE webhook_outbox (
  id BIGSERIAL PRIMARY KEY,
  url TEXT NOT NULL,
  event TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT COLLATE "C" NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  last_http_status INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  delivered_at TEXT,
  lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(status, next_attempt_at);
)sql",
    // 3 (issue 14): history keeps its facts (see sqlite_store.cc).
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
  id BIGSERIAL PRIMARY KEY,
  attendance_id BIGINT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('add', 'void', 'amend')),
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  reason TEXT NOT NULL,
  old_value TEXT NOT NULL DEFAULT '',
  new_value TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attendance_audit_row ON attendance_audit(attendance_id, id);
)sql",
    // 4 (issue 14): groups (see sqlite_store.cc).
    R"sql(
CREATE TABLE user_groups (
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (user_id, name)
);
CREATE INDEX user_groups_name ON user_groups(name);
INSERT INTO user_groups (user_id, name) SELECT id, department FROM users WHERE department <> '';
ALTER TABLE attendance ADD COLUMN groups TEXT NOT NULL DEFAULT '';
UPDATE attendance SET groups = coalesce((SELECT string_agg(g.name, ';' ORDER BY g.name)
  FROM user_groups g JOIN users u ON u.id = g.user_id
  WHERE u.employee_id = attendance.employee_id), '')
  WHERE employee_id IS NOT NULL;
)sql",
    // 5 (issue 17): several serve nodes (see sqlite_store.cc). The gallery
    // version's trigger also tells listening nodes (NOTIFY faceatt_gallery,
    // delivered at commit); statement triggers: one bump per statement.
    R"sql(
CREATE TABLE gallery_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO gallery_version VALUES (1, 1);
CREATE FUNCTION faceatt_gallery_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE v BIGINT;
BEGIN
  UPDATE gallery_version SET version = version + 1 RETURNING version INTO v;
  PERFORM pg_notify('faceatt_gallery', v::text);
  RETURN NULL;
END
$fn$;
CREATE TRIGGER gallery_users AFTER INSERT OR DELETE OR UPDATE OF employee_id, name, active
  ON users FOR EACH STATEMENT EXECUTE FUNCTION faceatt_gallery_changed();
CREATE TRIGGER gallery_embeddings AFTER INSERT OR DELETE OR UPDATE OF user_id, model_id, vector
  ON embeddings FOR EACH STATEMENT EXECUTE FUNCTION faceatt_gallery_changed();
CREATE TRIGGER gallery_groups AFTER INSERT OR DELETE
  ON user_groups FOR EACH STATEMENT EXECUTE FUNCTION faceatt_gallery_changed();
ALTER TABLE webhook_outbox ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
CREATE TABLE webhook_cooldown (
  key TEXT PRIMARY KEY,
  last_ms BIGINT NOT NULL
);
CREATE INDEX webhook_cooldown_last ON webhook_cooldown(last_ms);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

// Advisory lock keys (the first of pg_advisory_xact_lock's two int4 keys):
// one namespace each, so faceatt's locks never meet another application's
// on a shared server by accident of a hash.
constexpr int kLockMigrations = 0x46410001;
constexpr int kLockAttendance = 0x46410002;  // second key: hashtext(employee id)
constexpr int kLockEnrollment = 0x46410003;

constexpr size_t kVectorBytes = sizeof(float) * kEmbeddingDim;

// One statement parameter, sent as text (or bytes for a bytea); nullopt is NULL.
struct Param {
  std::optional<std::string> value;
  bool binary = false;
};
Param P(const std::string& v) { return {v}; }
Param P(const char* v) { return {std::string(v)}; }
Param P(int64_t v) { return {std::to_string(v)}; }
Param P(int v) { return {std::to_string(v)}; }
Param P(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return {std::string(buf)};
}
Param P(const std::optional<std::string>& v) { return {v}; }
Param P(const std::optional<double>& v) { return v ? P(*v) : Param{}; }
Param Vector(const Embedding& e) {
  return {std::string(reinterpret_cast<const char*>(e.data()), kVectorBytes), true};
}

// A result, read as text.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r) {}
  Rows(Rows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Rows& operator=(Rows&& o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }
  Rows(const Rows&) = delete;
  ~Rows() { PQclear(r_); }

  int size() const { return PQntuples(r_); }
  bool Null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string Text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
  }
  std::optional<std::string> OptText(int row, int col) const {
    if (Null(row, col)) return std::nullopt;
    return Text(row, col);
  }
  int64_t Int(int row, int col) const {
    return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
  }
  double Double(int row, int col) const { return std::strtod(PQgetvalue(r_, row, col), nullptr); }
  std::optional<double> OptDouble(int row, int col) const {
    if (Null(row, col)) return std::nullopt;
    return Double(row, col);
  }
  // A bytea of exactly `size` bytes into out.
  bool Bytes(int row, int col, void* out, size_t size) const {
    size_t n = 0;
    unsigned char* b =
        PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
    const bool ok = b && n == size;
    if (ok) std::memcpy(out, b, size);
    PQfreemem(b);
    return ok;
  }
  int64_t affected() const { return std::strtoll(PQcmdTuples(r_), nullptr, 10); }

 private:
  PGresult* r_;
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The Status of a failed statement: connection trouble is kUnavailable (the
// caller may retry; nothing was committed), a constraint kAlreadyExists,
// damaged data kCorruption, anything else kIoError.
Status Failure(PGconn* c, const PGresult* r, const std::string& what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string s = state ? state : "";
  const std::string msg =
      what + ": " +
      Trim(r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(c));
  if (PQstatus(c) != CONNECTION_OK || s.rfind("08", 0) == 0 || s.rfind("57P", 0) == 0 ||
      s == "53300")
    return Status::Unavailable("database unavailable: " + msg).WithReason(kDatabaseUnavailable);
  if (s.rfind("23", 0) == 0) return Status::AlreadyExists(msg);
  if (s == "XX001" || s == "XX002") return Status::Corruption(msg);
  return Status::IoError(msg);
}

void IgnoreNotice(void*, const char*) {}  // the library never prints

}  // namespace

std::string RedactUrl(const std::string& url) {
  // scheme://user:PASSWORD@host  and  password=PASSWORD (a query or key=value form)
  static const std::regex userinfo(R"(^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@?#]*):[^@/?#]*@)");
  static const std::regex keyword(R"((password\s*=\s*)('[^']*'|[^&\s]*))", std::regex::icase);
  std::string out = std::regex_replace(url, userinfo, "$1:***@");
  return std::regex_replace(out, keyword, "$1***");
}

struct PostgresStore::Impl {
  StoreOptions options;
  PostgresOptions pg;
  SystemClock system_clock;
  int version = 0;

  std::mutex pool_mu;
  std::vector<PGconn*> idle;  // connections not in use

  // WaitForGalleryChange's own connection, LISTENing on faceatt_gallery.
  std::mutex listen_mu;
  PGconn* listener = nullptr;

  ~Impl() {
    for (PGconn* c : idle) PQfinish(c);
    if (listener) PQfinish(listener);
  }

  const Clock& clock() const { return options.clock ? *options.clock : system_clock; }
  std::string Now() const { return FormatUtc(clock().NowMillis()); }

  Result<PGconn*> Connect() {
    // A server that does not answer fails in seconds, not the OS's minutes.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"5", "faceatt", pg.url.c_str(), nullptr};
    PGconn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (!c)
      return Status::Unavailable("cannot connect to PostgreSQL: out of memory")
          .WithReason(kDatabaseUnavailable);
    if (PQstatus(c) != CONNECTION_OK) {
      const std::string msg = Trim(PQerrorMessage(c));
      PQfinish(c);
      return Status::Unavailable("database unavailable: cannot connect to PostgreSQL at " +
                                 RedactUrl(pg.url) + ": " + msg)
          .WithReason(kDatabaseUnavailable);
    }
    PQsetNoticeProcessor(c, IgnoreNotice, nullptr);
    return c;
  }
  // A pooled connection (*reused = true) or a new one.
  Result<PGconn*> Acquire(bool* reused) {
    {
      std::lock_guard lock(pool_mu);
      while (!idle.empty()) {
        PGconn* c = idle.back();
        idle.pop_back();
        *reused = true;
        if (PQstatus(c) == CONNECTION_OK) return c;
        PQfinish(c);
      }
    }
    *reused = false;
    return Connect();
  }
  void Release(PGconn* c) {
    // A connection that broke, or was left inside a transaction, is not reused.
    if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE) {
      PQfinish(c);
      return;
    }
    std::lock_guard lock(pool_mu);
    idle.push_back(c);
  }
};

namespace {

// One pooled connection for the length of one method call.
class Session {
 public:
  explicit Session(PostgresStore::Impl& impl) : impl_(impl) {
    auto c = impl.Acquire(&reused_);
    if (c.ok())
      conn_ = *c;
    else
      error_ = c.status();
  }
  ~Session() {
    if (conn_) impl_.Release(conn_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Status& status() const { return error_; }

  Result<Rows> Exec(const std::string& sql, const std::vector<Param>& params = {},
                    const std::string& what = "database") {
    auto r = ExecOnce(sql, params, what);
    // A pooled connection the server dropped while it sat idle (a restart, a
    // failover) fails its first statement; when that statement changed nothing
    // (BEGIN, a read), it is retried once on a new connection.
    const bool harmless = sql == "BEGIN" || sql.rfind("SELECT", 0) == 0;
    if (!r.ok() && first_ && reused_ && harmless && PQstatus(conn_) != CONNECTION_OK) {
      PQfinish(conn_);
      conn_ = nullptr;
      reused_ = false;
      auto c = impl_.Connect();
      if (!c.ok()) return error_ = c.status();
      conn_ = *c;
      r = ExecOnce(sql, params, what);
    }
    first_ = false;
    return r;
  }
  Result<Rows> ExecOnce(const std::string& sql, const std::vector<Param>& params,
                        const std::string& what) {
    if (!conn_) return error_;
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    for (const auto& p : params) {
      values.push_back(p.value ? p.value->data() : nullptr);
      lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
      formats.push_back(p.binary ? 1 : 0);
    }
    // Without parameters, the simple protocol: a migration is several statements.
    PGresult* r = params.empty()
                      ? PQexec(conn_, sql.c_str())
                      : PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                     values.data(), lengths.data(), formats.data(), 0);
    const auto st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return Rows(r);
    Status s = Failure(conn_, r, what);
    PQclear(r);
    return s;
  }
  Status Run(const std::string& sql, const std::vector<Param>& params = {},
             const std::string& what = "database") {
    auto r = Exec(sql, params, what);
    return r.ok() ? Status::Ok() : r.status();
  }

  // Runs fn between BEGIN and COMMIT; rolls back when fn fails.
  template <typename F>
  Status Transaction(F&& fn) {
    FACEATT_RETURN_IF_ERROR(Run("BEGIN"));
    Status st = fn();
    if (st.ok()) st = Run("COMMIT");
    if (!st.ok()) (void)Run("ROLLBACK");  // the first error is the one to report
    return st;
  }

 private:
  PostgresStore::Impl& impl_;
  PGconn* conn_ = nullptr;
  bool reused_ = false;  // from the pool (it may have died while idle)
  bool first_ = true;    // no statement has run on it in this session
  Status error_;
};

Result<int64_t> UserRowId(Session& s, const std::string& employee_id) {
  FACEATT_ASSIGN_OR_RETURN(Rows r, s.Exec("SELECT id FROM users WHERE employee_id = $1",
                                          {P(employee_id)}, "looking up user"));
  if (r.size() == 0) return Status::NotFound("no person with employee id " + employee_id);
  return r.Int(0, 0);
}

// The last generation of a retired id (nullopt when it is not retired).
Result<std::optional<int64_t>> RetiredGeneration(Session& s, const std::string& employee_id) {
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec("SELECT generation FROM retired_ids r WHERE employee_id = $1 AND NOT EXISTS "
                     "(SELECT 1 FROM users u WHERE u.employee_id = $1)",
                     {P(employee_id)}, "checking retired ids"));
  if (r.size() == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(r.Int(0, 0));
}

// The caller is inside a transaction: the counter row stays locked until it
// ends, so two nodes never hand out one id.
Result<std::string> NextEmployeeId(Session& s, const StoreOptions& options) {
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec("SELECT next FROM id_sequence WHERE name = 'employee_id' FOR UPDATE", {},
                     "reading id sequence"));
  if (r.size() == 0) return Status::Corruption("the id sequence row is missing");
  for (int64_t n = r.Int(0, 0);; ++n) {
    std::string digits = std::to_string(n);
    if (static_cast<int>(digits.size()) < options.id_digits)
      digits.insert(0, options.id_digits - digits.size(), '0');
    const std::string id = options.id_prefix + digits;
    FACEATT_ASSIGN_OR_RETURN(Rows used,
                             s.Exec("SELECT 1 FROM users WHERE employee_id = $1 UNION ALL "
                                    "SELECT 1 FROM retired_ids WHERE employee_id = $1",
                                    {P(id)}, "checking id"));
    if (used.size() > 0) continue;
    FACEATT_RETURN_IF_ERROR(s.Run("UPDATE id_sequence SET next = $1 WHERE name = 'employee_id'",
                                  {P(n + 1)}, "advancing id sequence"));
    return id;
  }
}

Status InsertEmbeddings(Session& s, int64_t user_row, const std::string& now,
                        const std::vector<StoredEmbedding>& embeddings) {
  for (const auto& e : embeddings)
    FACEATT_RETURN_IF_ERROR(
        s.Run("INSERT INTO embeddings (user_id, model_id, vector, quality, source_path, "
              "source_sha256, thumbnail_path, crop_path, created_at) VALUES "
              "($1,$2,$3,$4,$5,$6,$7,$8,$9)",
              {P(user_row), P(e.model_id), Vector(e.vector), P(e.quality), P(e.source_path),
               P(e.source_sha256), P(e.thumbnail_path), P(e.crop_path), P(now)},
              "storing embedding"));
  return Status::Ok();
}

Result<std::vector<StoredEmbedding>> SelectEmbeddings(Session& s, const std::string& where,
                                                      const std::vector<Param>& params) {
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec("SELECT e.id, u.employee_id, e.model_id, e.vector, e.quality, e.source_path, "
                     "e.source_sha256, e.thumbnail_path, e.crop_path, e.created_at FROM "
                     "embeddings e JOIN users u ON u.id = e.user_id " +
                         where + " ORDER BY e.id",
                     params, "reading embeddings"));
  std::vector<StoredEmbedding> out;
  for (int i = 0; i < r.size(); ++i) {
    StoredEmbedding e;
    e.id = r.Int(i, 0);
    e.employee_id = r.Text(i, 1);
    e.model_id = r.Text(i, 2);
    if (!r.Bytes(i, 3, e.vector.data(), kVectorBytes))
      return Status::Corruption("embedding " + std::to_string(e.id) + " has a damaged vector");
    e.quality = r.Double(i, 4);
    e.source_path = r.Text(i, 5);
    e.source_sha256 = r.Text(i, 6);
    e.thumbnail_path = r.Text(i, 7);
    e.crop_path = r.Text(i, 8);
    e.created_at = r.Text(i, 9);
    out.push_back(std::move(e));
  }
  return out;
}

const char* kUserColumns =
    "SELECT u.employee_id, u.name, u.department, u.active, u.created_at, u.updated_at, "
    "(SELECT COUNT(*) FROM embeddings e WHERE e.user_id = u.id) FROM users u ";

User ReadUser(const Rows& r, int i) {
  User u;
  u.employee_id = r.Text(i, 0);
  u.name = r.Text(i, 1);
  u.department = r.Text(i, 2);
  u.active = r.Int(i, 3) != 0;
  u.created_at = r.Text(i, 4);
  u.updated_at = r.Text(i, 5);
  u.embeddings = static_cast<int>(r.Int(i, 6));
  return u;
}

// Retires the id $1 ("" = every person's) with the generation it had.
const char* kRetireIds =
    "INSERT INTO retired_ids (employee_id, generation) SELECT employee_id, generation FROM users "
    "WHERE $1 = '' OR employee_id = $1 ON CONFLICT (employee_id) DO UPDATE SET generation = "
    "greatest(retired_ids.generation, excluded.generation)";

Status CheckAttendance(const AttendanceRecord& r) {
  if (r.type != "" && r.type != "IN" && r.type != "OUT")
    return Status::InvalidArgument("attendance type must be IN or OUT, not '" + r.type + "'");
  if (r.status != kStatusSuccess && r.status != kStatusUnknown && r.status != kStatusFailed)
    return Status::InvalidArgument("attendance status must be success, unknown or failed");
  return Status::Ok();
}

Status CheckCorrection(const Correction& by) {
  FACEATT_RETURN_IF_ERROR(ValidateName(by.actor, "who corrects (actor)"));
  return ValidateName(by.reason, "reason");
}

// The name, generation and groups are those of the person the id names now
// (the name kept as given when the caller names the row, e.g. an import).
Result<int64_t> InsertAttendance(Session& s, const AttendanceRecord& r, int64_t ts) {
  FACEATT_ASSIGN_OR_RETURN(
      Rows rows,
      s.Exec(
          "INSERT INTO attendance (employee_id, type, status, reason, device_id, distance, "
          "ts_server, ts_client, image_ref, added_by_admin, name, generation, groups) "
          "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10, "
          "coalesce(nullif($11::text, ''), (SELECT name FROM users WHERE employee_id = $1), ''), "
          "coalesce((SELECT generation FROM users WHERE employee_id = $1), "
          "(SELECT generation FROM retired_ids WHERE employee_id = $1), 1), "
          "coalesce((SELECT string_agg(g.name, ';' ORDER BY g.name) FROM user_groups g "
          "JOIN users u ON u.id = g.user_id WHERE u.employee_id = $1), '')) RETURNING id",
          {P(r.employee_id), P(r.type), P(r.status), P(r.reason), P(r.device_id), P(r.distance),
           P(FormatUtc(ts)), P(r.ts_client), P(r.image_ref), P(r.added_by_admin ? 1 : 0),
           P(r.name_at_event)},
          "recording attendance"));
  return rows.Int(0, 0);
}

// Rows with the current name of the same person (same id and generation).
const char* kAttendanceColumns =
    "SELECT a.id, a.employee_id, a.type, a.status, a.reason, a.device_id, a.distance, "
    "a.ts_server, a.ts_client, a.image_ref, a.name, a.generation, u.name, a.voided, "
    "(SELECT COUNT(*) FROM attendance_audit x WHERE x.attendance_id = a.id AND x.action <> 'add'), "
    "a.added_by_admin, a.groups FROM attendance a LEFT JOIN users u ON u.employee_id = "
    "a.employee_id AND u.generation = a.generation";

AttendanceRecord ReadAttendance(const Rows& r, int i) {
  AttendanceRecord a;
  a.id = r.Int(i, 0);
  a.employee_id = r.OptText(i, 1);
  a.type = r.Text(i, 2);
  a.status = r.Text(i, 3);
  a.reason = r.Text(i, 4);
  a.device_id = r.Text(i, 5);
  a.distance = r.OptDouble(i, 6);
  auto ts = ParseTimestamp(r.Text(i, 7));
  a.ts_server_ms = ts.ok() ? *ts : 0;
  a.ts_client = r.Text(i, 8);
  a.image_ref = r.Text(i, 9);
  a.name_at_event = r.Text(i, 10);
  a.generation = static_cast<int>(r.Int(i, 11));
  a.current_name = r.OptText(i, 12);
  a.voided = r.Int(i, 13) != 0;
  a.corrections = static_cast<int>(r.Int(i, 14));
  a.added_by_admin = r.Int(i, 15) != 0;
  a.groups = r.Text(i, 16);
  return a;
}

// The WHERE clause of an attendance query, its parameters appended in order.
std::string AttendanceWhere(const AttendanceQuery& q, std::vector<Param>& args) {
  std::string w = " WHERE true";
  auto add = [&](const std::string& cond, std::string value) {
    args.push_back(P(std::move(value)));
    w += " AND " + cond + "$" + std::to_string(args.size());
  };
  if (q.employee_id) add("a.employee_id = ", *q.employee_id);
  if (q.from_ms) add("a.ts_server >= ", FormatUtc(*q.from_ms));
  if (q.to_ms) add("a.ts_server < ", FormatUtc(*q.to_ms));
  if (q.status) add("a.status = ", *q.status);
  if (q.type) add("a.type = ", *q.type);
  // groups is ';'-separated: a member match, not a substring ("A" is not in "AB").
  if (q.group) {
    args.push_back(P(*q.group));
    w += " AND strpos(';' || a.groups || ';', ';' || $" + std::to_string(args.size()) +
         "::text || ';') > 0";
  }
  if (!q.include_voided) w += " AND a.voided = 0";
  return w;
}

Result<std::vector<AttendanceRecord>> SelectAttendance(Session& s, const AttendanceQuery& q) {
  std::vector<Param> args;
  const char* order = q.newest_first ? "DESC" : "ASC";
  std::string sql = std::string(kAttendanceColumns) + AttendanceWhere(q, args) +
                    " ORDER BY a.ts_server " + order + ", a.id " + order;
  if (q.limit > 0)
    sql += " LIMIT " + std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
  FACEATT_ASSIGN_OR_RETURN(Rows r, s.Exec(sql, args, "reading attendance"));
  std::vector<AttendanceRecord> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(ReadAttendance(r, i));
  return out;
}

Result<AttendanceRecord> SelectOne(Session& s, int64_t id) {
  FACEATT_ASSIGN_OR_RETURN(Rows r, s.Exec(std::string(kAttendanceColumns) + " WHERE a.id = $1",
                                          {P(id)}, "reading attendance"));
  if (r.size() == 0) return Status::NotFound("no attendance record " + std::to_string(id));
  return ReadAttendance(r, 0);
}

Status InsertAudit(Session& s, int64_t row, const char* action, const Correction& by,
                   const std::string& at, const nlohmann::json& old_value,
                   const nlohmann::json& new_value) {
  return s.Run(
      "INSERT INTO attendance_audit (attendance_id, action, actor, at, reason, old_value, "
      "new_value) VALUES ($1,$2,$3,$4,$5,$6,$7)",
      {P(row), P(action), P(by.actor), P(at), P(by.reason),
       P(old_value.is_null() ? "" : old_value.dump()),
       P(new_value.is_null() ? "" : new_value.dump())},
      "recording the correction");
}

nlohmann::json TypeAndTime(const AttendanceRecord& r) {
  return {{"type", r.type}, {"ts_server", FormatUtc(r.ts_server_ms)}};
}

Status InsertOutbox(Session& s, const OutboxItem& item, const std::string& now) {
  return s.Run(
      "INSERT INTO webhook_outbox (url, event, body, status, attempts, next_attempt_at, "
      "created_at) VALUES ($1,$2,$3,'pending',0,$4,$5)",
      {P(item.url), P(item.event), P(item.body),
       P(item.next_attempt_ms > 0 ? FormatUtc(item.next_attempt_ms) : now), P(now)},
      "queueing webhook");
}

const char* kOutboxColumns =
    "id, url, event, body, status, attempts, next_attempt_at, last_error, last_http_status, "
    "created_at, delivered_at";

OutboxItem ReadOutbox(const Rows& r, int i) {
  auto ts = [](const std::string& t) -> int64_t {
    auto p = ParseTimestamp(t);
    return p.ok() ? *p : 0;
  };
  OutboxItem o;
  o.id = r.Int(i, 0);
  o.url = r.Text(i, 1);
  o.event = r.Text(i, 2);
  o.body = r.Text(i, 3);
  o.status = r.Text(i, 4);
  o.attempts = static_cast<int>(r.Int(i, 5));
  o.next_attempt_ms = ts(r.Text(i, 6));
  o.last_error = r.Text(i, 7);
  o.last_http_status = static_cast<int>(r.Int(i, 8));
  o.created_ms = ts(r.Text(i, 9));
  if (auto d = r.OptText(i, 10)) o.delivered_ms = ts(*d);
  return o;
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> OpenPostgresStore(const StoreOptions& options,
                                                         const PostgresOptions& pg) {
  auto impl = std::make_unique<PostgresStore::Impl>();
  impl->options = options;
  impl->pg = pg;
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(impl)));
  const std::string where = RedactUrl(pg.url);
  Session s(*store->impl_);
  FACEATT_RETURN_IF_ERROR(s.status());
  // One migration per transaction, each under the migration lock, reading the
  // version again inside it: nodes that start together migrate once.
  for (;;) {
    int version = 0;
    bool done = false;
    Status st = s.Transaction([&]() -> Status {
      FACEATT_RETURN_IF_ERROR(
          s.Run("SELECT pg_advisory_xact_lock($1, 0)", {P(kLockMigrations)}, "locking schema"));
      FACEATT_RETURN_IF_ERROR(
          s.Run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "applied_at TEXT NOT NULL)",
                {}, "reading schema version"));
      FACEATT_ASSIGN_OR_RETURN(Rows r, s.Exec("SELECT coalesce(max(version), 0) FROM "
                                              "schema_migrations",
                                              {}, "reading schema version"));
      version = static_cast<int>(r.Int(0, 0));
      if (version > kSchemaVersion)
        return Status::InvalidArgument(where + ": database schema version " +
                                       std::to_string(version) + " is newer than this faceatt (" +
                                       std::to_string(kSchemaVersion) + "); upgrade faceatt");
      if (version == kSchemaVersion) {
        done = true;
        return Status::Ok();
      }
      FACEATT_RETURN_IF_ERROR(
          s.Run(kMigrations[version], {}, "migrating to schema " + std::to_string(version + 1)));
      return s.Run("INSERT INTO schema_migrations VALUES ($1, $2)",
                   {P(version + 1), P(store->impl_->Now())}, "recording schema version");
    });
    if (!st.ok()) return st.code() == Code::kInvalidArgument ? st : st.WithPrefix(where);
    if (done) break;
  }
  store->impl_->version = kSchemaVersion;
  return store;
}

PostgresStore::PostgresStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresStore::~PostgresStore() = default;
int PostgresStore::schema_version() const { return impl_->version; }

Result<User> PostgresStore::CreateUser(const NewUser& user,
                                       const std::vector<StoredEmbedding>& embeddings) {
  FACEATT_RETURN_IF_ERROR(ValidateName(user.name));
  if (!user.department.empty())
    FACEATT_RETURN_IF_ERROR(ValidateName(user.department, "department"));
  if (!user.employee_id.empty()) FACEATT_RETURN_IF_ERROR(ValidateEmployeeId(user.employee_id));
  Session s(*impl_);
  std::string id = user.employee_id;
  Status st = s.Transaction([&]() -> Status {
    int64_t generation = 1;
    if (id.empty()) {
      FACEATT_ASSIGN_OR_RETURN(id, NextEmployeeId(s, impl_->options));
    } else {
      FACEATT_ASSIGN_OR_RETURN(auto retired, RetiredGeneration(s, id));
      if (retired && !user.reuse_retired_id) return RetiredIdRefused(id);
      if (retired) generation = *retired + 1;
    }
    const std::string now = impl_->Now();
    auto ins = s.Exec(
        "INSERT INTO users (employee_id, name, department, created_at, updated_at, generation) "
        "VALUES ($1,$2,$3,$4,$4,$5) RETURNING id",
        {P(id), P(user.name), P(user.department), P(now), P(generation)}, "creating person");
    if (ins.status().code() == Code::kAlreadyExists)
      return Status::AlreadyExists("employee id " + id + " is already taken");
    FACEATT_RETURN_IF_ERROR(ins.status());
    return InsertEmbeddings(s, ins->Int(0, 0), now, embeddings);
  });
  if (!st.ok()) return st;
  FACEATT_ASSIGN_OR_RETURN(Rows r, s.Exec(std::string(kUserColumns) + "WHERE u.employee_id = $1",
                                          {P(id)}, "reading new person"));
  if (r.size() == 0) return Status::NotFound("no person with employee id " + id);
  return ReadUser(r, 0);
}

Status PostgresStore::ContinueIdsAfter(int64_t number) {
  if (number < 0) return Status::InvalidArgument("id number must not be negative");
  Session s(*impl_);
  return s.Run("UPDATE id_sequence SET next = greatest(next, $1) WHERE name = 'employee_id'",
               {P(number + 1)}, "advancing id sequence");
}

Status PostgresStore::AddEmbeddings(const std::string& employee_id,
                                    const std::vector<StoredEmbedding>& embeddings) {
  Session s(*impl_);
  return s.Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(int64_t row, UserRowId(s, employee_id));
    const std::string now = impl_->Now();
    FACEATT_RETURN_IF_ERROR(InsertEmbeddings(s, row, now, embeddings));
    return s.Run("UPDATE users SET updated_at = $1 WHERE id = $2", {P(now), P(row)},
                 "updating person");
  });
}

Result<User> PostgresStore::GetUser(const std::string& employee_id) {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(Rows r, s.Exec(std::string(kUserColumns) + "WHERE u.employee_id = $1",
                                          {P(employee_id)}, "reading person"));
  if (r.size() == 0) return Status::NotFound("no person with employee id " + employee_id);
  return ReadUser(r, 0);
}

Result<std::vector<User>> PostgresStore::ListUsers() {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec(std::string(kUserColumns) + "ORDER BY u.employee_id", {}, "listing people"));
  std::vector<User> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(ReadUser(r, i));
  return out;
}

Status PostgresStore::UpdateUser(const std::string& employee_id,
                                 const std::optional<std::string>& name,
                                 const std::optional<std::string>& department,
                                 const std::optional<bool>& active) {
  if (name) FACEATT_RETURN_IF_ERROR(ValidateName(*name));
  if (department && !department->empty())
    FACEATT_RETURN_IF_ERROR(ValidateName(*department, "department"));
  Session s(*impl_);
  return s.Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(int64_t row, UserRowId(s, employee_id));
    return s.Run(
        "UPDATE users SET name = coalesce($1, name), department = coalesce($2, department), "
        "active = coalesce($3::integer, active), updated_at = $4 WHERE id = $5",
        {P(name), P(department), active ? P(*active ? 1 : 0) : Param{}, P(impl_->Now()), P(row)},
        "updating person");
  });
}

Status PostgresStore::SetGroupMembership(const std::string& employee_id, const std::string& group,
                                         bool member) {
  FACEATT_RETURN_IF_ERROR(ValidateName(group, "group"));
  Session s(*impl_);
  return s.Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(int64_t row, UserRowId(s, employee_id));
    return s.Run(member ? "INSERT INTO user_groups (user_id, name) VALUES ($1, $2) "
                          "ON CONFLICT DO NOTHING"
                        : "DELETE FROM user_groups WHERE user_id = $1 AND name = $2",
                 {P(row), P(group)}, "changing a group");
  });
}

Result<std::map<std::string, std::vector<std::string>>> PostgresStore::ListGroups() {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec("SELECT g.name, u.employee_id FROM user_groups g JOIN users u ON u.id = "
                     "g.user_id ORDER BY g.name, u.employee_id",
                     {}, "listing groups"));
  std::map<std::string, std::vector<std::string>> out;
  for (int i = 0; i < r.size(); ++i) out[r.Text(i, 0)].push_back(r.Text(i, 1));
  return out;
}

Result<std::vector<StoredEmbedding>> PostgresStore::DeleteUser(const std::string& employee_id,
                                                               bool purge_attendance) {
  Session s(*impl_);
  std::vector<StoredEmbedding> removed;
  Status st = s.Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(int64_t row, UserRowId(s, employee_id));
    FACEATT_ASSIGN_OR_RETURN(removed, SelectEmbeddings(s, "WHERE u.id = $1", {P(row)}));
    // Before the delete: it reads the generation.
    FACEATT_RETURN_IF_ERROR(s.Run(kRetireIds, {P(employee_id)}, "retiring id"));
    FACEATT_RETURN_IF_ERROR(s.Run("DELETE FROM users WHERE id = $1", {P(row)}, "deleting person"));
    if (!purge_attendance) return Status::Ok();
    FACEATT_RETURN_IF_ERROR(
        s.Run("DELETE FROM attendance_audit WHERE attendance_id IN "
              "(SELECT id FROM attendance WHERE employee_id = $1)",
              {P(employee_id)}, "purging attendance corrections"));
    return s.Run("DELETE FROM attendance WHERE employee_id = $1", {P(employee_id)},
                 "purging attendance");
  });
  if (!st.ok()) return st;
  return removed;
}

Result<std::vector<StoredEmbedding>> PostgresStore::DeleteAllUsers() {
  Session s(*impl_);
  std::vector<StoredEmbedding> removed;
  Status st = s.Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(removed, SelectEmbeddings(s, "", {}));
    FACEATT_RETURN_IF_ERROR(s.Run(kRetireIds, {P("")}, "retiring ids"));
    return s.Run("DELETE FROM users", {}, "deleting people");
  });
  if (!st.ok()) return st;
  return removed;
}

Result<std::vector<StoredEmbedding>> PostgresStore::ListEmbeddings(const std::string& employee_id) {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(int64_t row, UserRowId(s, employee_id));
  return SelectEmbeddings(s, "WHERE u.id = $1", {P(row)});
}

Result<StoredEmbedding> PostgresStore::DeleteEmbedding(const std::string& employee_id,
                                                       int64_t embedding_id) {
  Session s(*impl_);
  StoredEmbedding removed;
  Status st = s.Transaction([&]() -> Status {
    FACEATT_ASSIGN_OR_RETURN(int64_t row, UserRowId(s, employee_id));
    // FOR UPDATE of the person: two concurrent deletes cannot both see two left.
    FACEATT_RETURN_IF_ERROR(
        s.Run("SELECT id FROM users WHERE id = $1 FOR UPDATE", {P(row)}, "locking person"));
    FACEATT_ASSIGN_OR_RETURN(auto all, SelectEmbeddings(s, "WHERE u.id = $1", {P(row)}));
    FACEATT_ASSIGN_OR_RETURN(removed, PickEmbeddingToDelete(all, employee_id, embedding_id));
    return s.Run("DELETE FROM embeddings WHERE id = $1", {P(embedding_id)}, "deleting embedding");
  });
  if (!st.ok()) return st;
  return removed;
}

Result<std::vector<StoredEmbedding>> PostgresStore::LoadEmbeddings(const std::string& model_id) {
  Session s(*impl_);
  if (model_id.empty()) return SelectEmbeddings(s, "WHERE u.active = 1", {});
  return SelectEmbeddings(s, "WHERE u.active = 1 AND e.model_id = $1", {P(model_id)});
}

Result<std::vector<std::string>> PostgresStore::UsersNeedingReenrollment(
    const std::string& model_id) {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec("SELECT u.employee_id FROM users u WHERE EXISTS (SELECT 1 FROM embeddings e "
                     "WHERE e.user_id = u.id) AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE "
                     "e.user_id = u.id AND e.model_id = $1) ORDER BY u.employee_id",
                     {P(model_id)}, "checking models"));
  std::vector<std::string> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(r.Text(i, 0));
  return out;
}

Result<std::optional<std::string>> PostgresStore::FindImage(const std::string& sha256,
                                                            const std::string& model_id) {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec("SELECT u.employee_id FROM embeddings e JOIN users u ON u.id = e.user_id "
                     "WHERE e.source_sha256 = $1 AND e.model_id = $2 ORDER BY e.id LIMIT 1",
                     {P(sha256), P(model_id)}, "looking up image"));
  if (r.size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r.Text(0, 0));
}

Result<int64_t> PostgresStore::AddAttendance(const AttendanceRecord& r) {
  FACEATT_RETURN_IF_ERROR(CheckAttendance(r));
  Session s(*impl_);
  return InsertAttendance(s, r, r.ts_server_ms ? r.ts_server_ms : impl_->clock().NowMillis());
}

namespace {
// Whether the events may be stored under their cooldown key (OutboxItem);
// taking it records ts_ms. Concurrent takers of one key queue on its row.
Result<bool> TakeCooldown(Session& s, const std::vector<OutboxItem>& items, int64_t ts_ms) {
  if (items.empty() || items.front().cooldown_key.empty() || items.front().cooldown_ms <= 0)
    return true;
  const std::vector<Param> args = {P(items.front().cooldown_key), P(ts_ms),
                                   P(items.front().cooldown_ms)};
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec("INSERT INTO webhook_cooldown (key, last_ms) VALUES ($1, $2::bigint) ON "
                     "CONFLICT (key) DO UPDATE SET last_ms = EXCLUDED.last_ms WHERE "
                     "webhook_cooldown.last_ms <= $2::bigint - $3::bigint",
                     args, "checking the webhook cooldown"));
  if (r.affected() == 0) return false;
  // Keys come from clients (device ids): expired ones go before the table grows.
  FACEATT_RETURN_IF_ERROR(
      s.Run("DELETE FROM webhook_cooldown WHERE last_ms <= $1::bigint - $2::bigint",
            {P(ts_ms), P(items.front().cooldown_ms)}, "sweeping the webhook cooldown"));
  return true;
}
}  // namespace

Result<int64_t> PostgresStore::AddAttendanceAfter(const std::optional<AttendanceQuery>& recent,
                                                  const AttendanceDecider& decide) {
  Session s(*impl_);
  int64_t id = 0;
  FACEATT_RETURN_IF_ERROR(s.Transaction([&]() -> Status {
    std::vector<AttendanceRecord> rows;
    if (recent) {
      // Serialised per person across every node and process: a second
      // decision for the same person waits here and then sees the first row.
      // A query of no one person serialises with every other such query.
      FACEATT_RETURN_IF_ERROR(s.Run("SELECT pg_advisory_xact_lock($1, hashtext($2))",
                                    {P(kLockAttendance), P(recent->employee_id.value_or(""))},
                                    "locking attendance"));
      FACEATT_ASSIGN_OR_RETURN(rows, SelectAttendance(s, *recent));
    }
    FACEATT_ASSIGN_OR_RETURN(AttendanceWrite w, decide(rows));
    FACEATT_RETURN_IF_ERROR(CheckAttendance(w.record));
    const int64_t ts = w.record.ts_server_ms ? w.record.ts_server_ms : impl_->clock().NowMillis();
    FACEATT_ASSIGN_OR_RETURN(id, InsertAttendance(s, w.record, ts));
    const std::string now = impl_->Now();
    FACEATT_ASSIGN_OR_RETURN(bool send, TakeCooldown(s, w.outbox, ts));
    if (send)
      for (const auto& item : w.outbox) FACEATT_RETURN_IF_ERROR(InsertOutbox(s, item, now));
    if (w.events_stored) *w.events_stored = send ? static_cast<int>(w.outbox.size()) : 0;
    return Status::Ok();
  }));
  return id;
}

Result<std::vector<AttendanceRecord>> PostgresStore::QueryAttendance(const AttendanceQuery& q) {
  Session s(*impl_);
  return SelectAttendance(s, q);
}

Result<int64_t> PostgresStore::CountAttendance(const AttendanceQuery& q) {
  std::vector<Param> args;
  const std::string sql = "SELECT COUNT(*) FROM attendance a" + AttendanceWhere(q, args);
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(Rows r, s.Exec(sql, args, "counting attendance"));
  return r.Int(0, 0);
}

Result<bool> PostgresStore::IsRetiredId(const std::string& employee_id) {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(auto generation, RetiredGeneration(s, employee_id));
  return generation.has_value();
}

Result<int64_t> PostgresStore::AddCorrectedAttendance(const AttendanceRecord& record,
                                                      const Correction& by) {
  FACEATT_RETURN_IF_ERROR(CheckCorrection(by));
  AttendanceRecord r = record;
  r.status = kStatusSuccess;
  r.added_by_admin = true;
  if (!r.employee_id) return Status::InvalidArgument("an added record needs an employee id");
  if (r.type != "IN" && r.type != "OUT")
    return Status::InvalidArgument("an added record's type must be IN or OUT");
  if (r.ts_server_ms <= 0) return Status::InvalidArgument("an added record needs its time");
  Session s(*impl_);
  int64_t id = 0;
  FACEATT_RETURN_IF_ERROR(s.Transaction([&]() -> Status {
    auto person = UserRowId(s, *r.employee_id);
    if (!person.ok()) return person.status();
    FACEATT_ASSIGN_OR_RETURN(id, InsertAttendance(s, r, r.ts_server_ms));
    nlohmann::json added = TypeAndTime(r);
    added["employee_id"] = *r.employee_id;
    return InsertAudit(s, id, kAuditAdd, by, impl_->Now(), nullptr, added);
  }));
  return id;
}

Status PostgresStore::VoidAttendance(int64_t id, const Correction& by) {
  FACEATT_RETURN_IF_ERROR(CheckCorrection(by));
  Session s(*impl_);
  return s.Transaction([&]() -> Status {
    // FOR UPDATE: two admins voiding at once on two nodes, one wins.
    FACEATT_RETURN_IF_ERROR(
        s.Run("SELECT 1 FROM attendance WHERE id = $1 FOR UPDATE", {P(id)}, "reading attendance"));
    FACEATT_ASSIGN_OR_RETURN(AttendanceRecord r, SelectOne(s, id));
    if (r.voided)
      return Status::Conflict("attendance record " + std::to_string(id) + " is already voided");
    FACEATT_RETURN_IF_ERROR(
        s.Run("UPDATE attendance SET voided = 1 WHERE id = $1", {P(id)}, "voiding attendance"));
    return InsertAudit(s, id, kAuditVoid, by, impl_->Now(), {{"voided", false}},
                       {{"voided", true}});
  });
}

Status PostgresStore::AmendAttendance(int64_t id, const std::optional<std::string>& type,
                                      const std::optional<int64_t>& ts_ms, const Correction& by) {
  if (!type && !ts_ms) return Status::InvalidArgument("amend needs a new type or a new time");
  if (type && *type != "IN" && *type != "OUT")
    return Status::InvalidArgument("attendance type must be IN or OUT, not '" + *type + "'");
  if (ts_ms && *ts_ms <= 0) return Status::InvalidArgument("amend: the new time is not valid");
  FACEATT_RETURN_IF_ERROR(CheckCorrection(by));
  Session s(*impl_);
  return s.Transaction([&]() -> Status {
    FACEATT_RETURN_IF_ERROR(
        s.Run("SELECT 1 FROM attendance WHERE id = $1 FOR UPDATE", {P(id)}, "reading attendance"));
    FACEATT_ASSIGN_OR_RETURN(AttendanceRecord r, SelectOne(s, id));
    if (r.voided)
      return Status::Conflict("attendance record " + std::to_string(id) +
                              " is voided; add a new record instead");
    if (r.status != kStatusSuccess)
      return Status::InvalidArgument("only a recognised (success) record can be amended");
    AttendanceRecord after = r;
    if (type) after.type = *type;
    if (ts_ms) after.ts_server_ms = *ts_ms;
    FACEATT_RETURN_IF_ERROR(s.Run("UPDATE attendance SET type = $1, ts_server = $2 WHERE id = $3",
                                  {P(after.type), P(FormatUtc(after.ts_server_ms)), P(id)},
                                  "amending attendance"));
    return InsertAudit(s, id, kAuditAmend, by, impl_->Now(), TypeAndTime(r), TypeAndTime(after));
  });
}

Result<AttendanceRecord> PostgresStore::GetAttendance(int64_t id) {
  Session s(*impl_);
  return SelectOne(s, id);
}

Result<std::vector<AuditEntry>> PostgresStore::AttendanceAudit(int64_t id) {
  Session s(*impl_);
  auto row = SelectOne(s, id);  // kNotFound for no such row
  if (!row.ok()) return row.status();
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec("SELECT id, attendance_id, action, actor, at, reason, old_value, new_value "
                     "FROM attendance_audit WHERE attendance_id = $1 ORDER BY id",
                     {P(id)}, "reading corrections"));
  std::vector<AuditEntry> out;
  for (int i = 0; i < r.size(); ++i) {
    AuditEntry e;
    e.id = r.Int(i, 0);
    e.attendance_id = r.Int(i, 1);
    e.action = r.Text(i, 2);
    e.actor = r.Text(i, 3);
    auto at = ParseTimestamp(r.Text(i, 4));
    e.at_ms = at.ok() ? *at : 0;
    e.reason = r.Text(i, 5);
    e.old_value = r.Text(i, 6);
    e.new_value = r.Text(i, 7);
    out.push_back(std::move(e));
  }
  return out;
}

Result<int64_t> PostgresStore::CountUsers() {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(Rows r, s.Exec("SELECT COUNT(*) FROM users", {}, "counting people"));
  return r.Int(0, 0);
}

Result<int64_t> PostgresStore::CountEmbeddings() {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(Rows r,
                           s.Exec("SELECT COUNT(*) FROM embeddings", {}, "counting embeddings"));
  return r.Int(0, 0);
}

Status PostgresStore::Backup(const std::string& destination) {
  // pg_dump's custom format (pg_restore reads it), written to a temporary file
  // and renamed when complete, as SQLite's backup is. The password, if the
  // URL holds one, goes to pg_dump in PGPASSWORD, not on its command line
  // (which every local user can read).
  static const std::regex password(R"(^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@?#]*):([^@/?#]*)@)");
  std::smatch m;
  std::string url = impl_->pg.url, secret;
  if (std::regex_search(url, m, password)) {
    secret = m[2].str();
    url = m[1].str() + "@" + m.suffix().str();
  }
  const std::string tmp = destination + ".partial";
  std::vector<std::string> args = {"pg_dump", "--format=custom", "--file=" + tmp,
                                   "--dbname=" + url};
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "PGPASSWORD=", 11) != 0 || secret.empty()) env_strings.push_back(*e);
  if (!secret.empty()) env_strings.push_back("PGPASSWORD=" + secret);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  // pg_dump's messages go to a file and into the error, not to our stderr.
  const std::string log = destination + ".log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "pg_dump", &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    std::remove(log.c_str());
    return Status::Unavailable(
        "backing up the PostgreSQL store needs pg_dump (Debian package postgresql-client)");
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::string message;
  if (FILE* f = std::fopen(log.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, f)) message = Trim(line);  // the last line says why
    std::fclose(f);
  }
  std::remove(log.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::remove(tmp.c_str());
    return Status::IoError("pg_dump of " + RedactUrl(impl_->pg.url) + " to " + destination +
                           " failed: " + RedactUrl(message));
  }
  if (std::rename(tmp.c_str(), destination.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IoError("backup to " + destination + " failed: cannot rename " + tmp);
  }
  return Status::Ok();
}

namespace {
// Holds the advisory lock on its own connection until destroyed.
class AdvisoryLock : public PeopleStore::EnrollmentLock {
 public:
  AdvisoryLock(PostgresStore::Impl& impl, PGconn* conn, int key)
      : impl_(impl), conn_(conn), key_(key) {}
  ~AdvisoryLock() override {
    const std::string sql = "SELECT pg_advisory_unlock(" + std::to_string(key_) + ", 0)";
    PQclear(PQexec(conn_, sql.c_str()));  // a dead connection released it already
    impl_.Release(conn_);
  }

 private:
  PostgresStore::Impl& impl_;
  PGconn* conn_;
  int key_;
};
}  // namespace

Result<std::unique_ptr<PeopleStore::EnrollmentLock>> PostgresStore::LockEnrollment() {
  bool reused = false;
  FACEATT_ASSIGN_OR_RETURN(PGconn * conn, impl_->Acquire(&reused));
  const std::string sql = "SELECT pg_advisory_lock(" + std::to_string(kLockEnrollment) + ", 0)";
  PGresult* r = PQexec(conn, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK && reused && PQstatus(conn) != CONNECTION_OK) {
    PQclear(r);  // died while idle: once more on a new connection
    PQfinish(conn);
    FACEATT_ASSIGN_OR_RETURN(conn, impl_->Connect());
    r = PQexec(conn, sql.c_str());
  }
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    Status st = Failure(conn, r, "locking enrollment");
    PQclear(r);
    impl_->Release(conn);
    return st;
  }
  PQclear(r);
  return std::unique_ptr<EnrollmentLock>(new AdvisoryLock(*impl_, conn, kLockEnrollment));
}

Result<std::vector<FileRef>> PostgresStore::ListFileRefs() {
  Session s(*impl_);
  std::vector<FileRef> out;
  FACEATT_ASSIGN_OR_RETURN(
      Rows e, s.Exec("SELECT id, source_path, source_sha256, thumbnail_path, crop_path FROM "
                     "embeddings ORDER BY id",
                     {}, "listing file references"));
  for (int i = 0; i < e.size(); ++i) {
    const int64_t id = e.Int(i, 0);
    if (!e.Text(i, 1).empty())
      out.push_back({"embeddings", "source_path", id, e.Text(i, 1), e.Text(i, 2)});
    if (!e.Text(i, 3).empty())
      out.push_back({"embeddings", "thumbnail_path", id, e.Text(i, 3), ""});
    if (!e.Text(i, 4).empty()) out.push_back({"embeddings", "crop_path", id, e.Text(i, 4), ""});
  }
  FACEATT_ASSIGN_OR_RETURN(
      Rows a, s.Exec("SELECT id, image_ref FROM attendance WHERE image_ref <> '' ORDER BY id", {},
                     "listing file references"));
  for (int i = 0; i < a.size(); ++i)
    out.push_back({"attendance", "image_ref", a.Int(i, 0), a.Text(i, 1), ""});
  return out;
}

Status PostgresStore::UpdateFileRef(const FileRef& ref, const std::string& new_path) {
  static const char* kAllowed[][2] = {{"embeddings", "source_path"},
                                      {"embeddings", "thumbnail_path"},
                                      {"embeddings", "crop_path"},
                                      {"attendance", "image_ref"}};
  bool known = false;
  for (const auto& a : kAllowed) known |= ref.table == a[0] && ref.column == a[1];
  if (!known)
    return Status::InvalidArgument("unknown file reference " + ref.table + "." + ref.column);
  Session s(*impl_);
  return s.Run("UPDATE " + ref.table + " SET " + ref.column + " = $1 WHERE id = $2",
               {P(new_path), P(ref.row_id)}, "updating file reference");
}

Status PostgresStore::ReplaceEmbedding(int64_t embedding_id, const StoredEmbedding& e) {
  Session s(*impl_);
  return s.Run(
      "UPDATE embeddings SET model_id = $1, vector = $2, quality = $3, source_sha256 = $4, "
      "thumbnail_path = $5, crop_path = $6 WHERE id = $7",
      {P(e.model_id), Vector(e.vector), P(e.quality), P(e.source_sha256), P(e.thumbnail_path),
       P(e.crop_path), P(embedding_id)},
      "replacing embedding");
}

Result<std::vector<OutboxItem>> PostgresStore::DueOutbox(int64_t now_ms, int limit) {
  Session s(*impl_);
  // Claims the rows: SKIP LOCKED passes over rows another node is claiming at
  // this moment, and the lease keeps the claimed ones from every other node
  // until UpdateOutbox, or until it runs out (the claiming node died).
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec(std::string("UPDATE webhook_outbox SET lease_until = $3 WHERE id IN (SELECT "
                                 "id FROM webhook_outbox WHERE status = 'pending' AND "
                                 "next_attempt_at <= $1 AND lease_until <= $2 ORDER BY id LIMIT "
                                 "$4 FOR UPDATE SKIP LOCKED) RETURNING ") +
                         kOutboxColumns,
                     {P(FormatUtc(now_ms)), P(now_ms), P(now_ms + impl_->pg.outbox_lease_ms),
                      P(std::max(limit, 0))},
                     "claiming webhook outbox"));
  std::vector<OutboxItem> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(ReadOutbox(r, i));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

Result<std::vector<OutboxItem>> PostgresStore::ClaimOutbox(int64_t now_ms, int limit,
                                                           const std::string& owner,
                                                           int64_t lease_ms) {
  Session s(*impl_);
  // As DueOutbox, with the owner named, so that the owner's own unfinished
  // claims (a restarted process of the same name) are its again.
  FACEATT_ASSIGN_OR_RETURN(
      Rows r,
      s.Exec(
          std::string("UPDATE webhook_outbox SET lease_until = $3, lease_owner = $5 WHERE id "
                      "IN (SELECT id FROM webhook_outbox WHERE status = 'pending' AND "
                      "next_attempt_at <= $1 AND (lease_until <= $2 OR lease_owner = $5) "
                      "ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING ") +
              kOutboxColumns,
          {P(FormatUtc(now_ms)), P(now_ms), P(now_ms + lease_ms), P(std::max(limit, 0)), P(owner)},
          "claiming webhook outbox"));
  std::vector<OutboxItem> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(ReadOutbox(r, i));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

Result<int64_t> PostgresStore::GalleryVersion() {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec("SELECT version FROM gallery_version", {}, "reading the gallery version"));
  if (r.size() != 1) return Status::Corruption("the gallery version row is missing");
  return r.Int(0, 0);
}

Result<int64_t> PostgresStore::WaitForGalleryChange(int64_t known, int timeout_ms) {
  std::lock_guard lock(impl_->listen_mu);
  PGconn*& c = impl_->listener;
  auto drop = [&](Status st) {
    PQfinish(c);
    c = nullptr;
    return st;
  };
  if (c && PQstatus(c) != CONNECTION_OK) (void)drop(Status::Ok());
  if (!c) {  // (re)connect: a node that lost the server listens again and re-reads below
    FACEATT_ASSIGN_OR_RETURN(PGconn * fresh, impl_->Connect());
    c = fresh;
    PGresult* r = PQexec(c, "LISTEN faceatt_gallery");
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    Status st = ok ? Status::Ok() : Failure(c, r, "listening for gallery changes");
    PQclear(r);
    if (!ok) return drop(st);
  }
  auto read = [&]() -> Result<int64_t> {
    PGresult* r = PQexec(c, "SELECT version FROM gallery_version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
      Status st = Failure(c, r, "reading the gallery version");
      PQclear(r);
      return drop(st);
    }
    const int64_t v = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
    PQclear(r);
    return v;
  };
  auto drain = [&] {
    bool any = false;
    while (PGnotify* n = PQnotifies(c)) {
      any = true;
      PQfreemem(n);
    }
    return any;
  };
  drain();
  FACEATT_ASSIGN_OR_RETURN(int64_t version, read());
  if (version != known || timeout_ms <= 0) return version;
  // A notification that came in with the read above is already queued.
  if (!drain()) {
    pollfd pfd{PQsocket(c), POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) > 0 && PQconsumeInput(c) == 0)
      return drop(Status::Unavailable("database unavailable: " + Trim(PQerrorMessage(c)))
                      .WithReason(kDatabaseUnavailable));
    if (!drain()) return version;  // the timeout: nothing changed
  }
  return read();
}

Status PostgresStore::UpdateOutbox(const OutboxItem& item) {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(
      Rows r,
      s.Exec("UPDATE webhook_outbox SET status = $1, attempts = $2, next_attempt_at = $3, "
             "last_error = $4, last_http_status = $5, delivered_at = $6, lease_until = 0, "
             "lease_owner = '' "
             "WHERE id = $7",
             {P(item.status), P(item.attempts), P(FormatUtc(item.next_attempt_ms)),
              P(item.last_error), P(item.last_http_status),
              item.delivered_ms > 0 ? P(FormatUtc(item.delivered_ms)) : Param{}, P(item.id)},
             "updating webhook outbox"));
  if (r.affected() == 0) return Status::NotFound("no webhook delivery " + std::to_string(item.id));
  return Status::Ok();
}

Result<std::vector<OutboxItem>> PostgresStore::ListOutbox(const std::string& status, int limit) {
  Session s(*impl_);
  std::string sql = std::string("SELECT ") + kOutboxColumns +
                    " FROM webhook_outbox WHERE ($1 = '' OR status = $1) ORDER BY id DESC";
  if (limit > 0) sql += " LIMIT " + std::to_string(limit);
  FACEATT_ASSIGN_OR_RETURN(Rows r, s.Exec(sql, {P(status)}, "listing webhook outbox"));
  std::vector<OutboxItem> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(ReadOutbox(r, i));
  return out;
}

Result<int64_t> PostgresStore::CountOutbox(const std::string& status) {
  Session s(*impl_);
  FACEATT_ASSIGN_OR_RETURN(
      Rows r, s.Exec("SELECT COUNT(*) FROM webhook_outbox WHERE ($1 = '' OR status = $1)",
                     {P(status)}, "counting webhook outbox"));
  return r.Int(0, 0);
}

Status PostgresStore::Check() {
  Session s(*impl_);
  // Reading every row of every table finds damaged pages; the counts find
  // rows that lost what they refer to.
  FACEATT_ASSIGN_OR_RETURN(
      Rows r,
      s.Exec("SELECT (SELECT count(*) FROM embeddings e WHERE NOT EXISTS (SELECT 1 FROM users u "
             "WHERE u.id = e.user_id) OR length(e.vector) <> 512), "
             "(SELECT count(*) FROM user_groups g WHERE NOT EXISTS (SELECT 1 FROM users u WHERE "
             "u.id = g.user_id)), "
             "(SELECT count(*) FROM (SELECT * FROM attendance) a), "
             "(SELECT count(*) FROM (SELECT * FROM attendance_audit) x), "
             "(SELECT count(*) FROM (SELECT * FROM webhook_outbox) o), "
             "(SELECT count(*) FROM (SELECT * FROM users) u)",
             {}, "checking database"));
  if (r.Int(0, 0) > 0 || r.Int(0, 1) > 0)
    return Status::Corruption("database check failed: " + std::to_string(r.Int(0, 0)) +
                              " damaged embeddings, " + std::to_string(r.Int(0, 1)) +
                              " group rows without their person");
  return Status::Ok();
}

namespace {
std::string ColumnList(const CopyTable& t) {
  std::string cols;
  for (const auto& c : t.columns) cols += std::string(cols.empty() ? "" : ", ") + c.name;
  return cols;
}
}  // namespace

Result<std::vector<TableData>> PostgresStore::ExportTables() {
  Session s(*impl_);
  std::vector<TableData> out;
  Status st = s.Transaction([&]() -> Status {
    // One snapshot for every table, however many nodes write meanwhile.
    FACEATT_RETURN_IF_ERROR(s.Run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    for (const CopyTable& t : CopyTables()) {
      FACEATT_ASSIGN_OR_RETURN(
          Rows r, s.Exec("SELECT " + ColumnList(t) + " FROM " + t.name + " ORDER BY " + t.order_by,
                         {}, std::string("reading ") + t.name));
      TableData data{t.name, {}};
      for (int i = 0; i < r.size(); ++i) {
        TableRow row;
        for (int c = 0; c < static_cast<int>(t.columns.size()); ++c) {
          const char kind = t.columns[c].kind;
          if (r.Null(i, c)) {
            row.emplace_back();
          } else if (kind == 'r') {
            row.emplace_back(FormatReal(r.Double(i, c)));
          } else if (kind == 'b') {
            size_t n = 0;
            unsigned char* b =
                PQunescapeBytea(reinterpret_cast<const unsigned char*>(r.Text(i, c).c_str()), &n);
            if (!b) return Status::Internal("out of memory reading " + data.name);
            row.emplace_back(std::string(reinterpret_cast<const char*>(b), n));
            PQfreemem(b);
          } else {
            row.emplace_back(r.Text(i, c));
          }
        }
        data.rows.push_back(std::move(row));
      }
      out.push_back(std::move(data));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status PostgresStore::ImportTables(const std::vector<TableData>& tables) {
  Session s(*impl_);
  return s.Transaction([&]() -> Status {
    const auto& specs = CopyTables();
    for (auto t = specs.rbegin(); t != specs.rend(); ++t)  // children first
      FACEATT_RETURN_IF_ERROR(s.Run(std::string("DELETE FROM ") + t->name));
    for (const TableData& data : tables) {
      auto spec = std::find_if(specs.begin(), specs.end(),
                               [&](const CopyTable& t) { return data.name == t.name; });
      if (spec == specs.end()) return Status::InvalidArgument("unknown table " + data.name);
      std::string marks;
      for (size_t i = 0; i < spec->columns.size(); ++i)
        marks += (i ? ",$" : "$") + std::to_string(i + 1);
      const std::string sql =
          "INSERT INTO " + data.name + " (" + ColumnList(*spec) + ") VALUES (" + marks + ")";
      for (const TableRow& row : data.rows) {
        if (row.size() != spec->columns.size())
          return Status::InvalidArgument("a row of " + data.name + " has the wrong columns");
        std::vector<Param> params;
        for (size_t i = 0; i < row.size(); ++i)
          params.push_back({row[i], spec->columns[i].kind == 'b'});
        FACEATT_RETURN_IF_ERROR(s.Run(sql, params, "copying into " + data.name));
      }
      // Ids the database generates continue after the copied ones.
      if (spec->has_serial_id)
        FACEATT_RETURN_IF_ERROR(s.Run(std::string("SELECT setval(pg_get_serial_sequence('") +
                                          data.name + "', 'id'), coalesce(max(id), 0) + 1, " +
                                          "false) FROM " + data.name,
                                      {}, "continuing ids of " + data.name));
    }
    return Status::Ok();
  });
}

}  // namespace faceatt
