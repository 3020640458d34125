// Store: people, their face embeddings, the attendance log and the webhook
// outbox, as four small interfaces that Store combines; a backend implements
// Store, and a caller takes the narrowest interface it uses.
//
//   PeopleStore       people and embeddings        enrollment, identify, users, /health
//   AttendanceStore   the attendance log           the recorder, export
//   OutboxStore       webhook events to deliver    the webhook dispatcher
//   MaintenanceStore  whole-database operations    reset-users, fix-paths, backups
//
// The contract every backend keeps (SqliteStore is the reference, and
// sqlite_store_test.cc checks it):
// - Atomic: every method that changes data is one transaction, so a crash or
//   kill at any moment leaves either all of a change or none of it. A read
//   never sees half of another caller's change.
// - Outcomes: kNotFound (no such employee id), kAlreadyExists (employee
//   id taken), kInvalidArgument (malformed id, name or record; nothing is
//   changed), kIoError / kCorruption (the database failed; nothing is changed).
//   Reads of missing people return kNotFound; lists that match nothing are empty.
// - Ids: employee ids are generated as <prefix><n> zero-padded (EMP001, EMP002,
//   ...) when not given, and are never generated again after the person is
//   deleted. A deleted person's id is retired: CreateUser refuses it
//   (kAlreadyExists) unless NewUser::reuse_retired_id, and then the new person
//   is a new generation of the id, so the old rows stay with the old person.
// - History keeps its facts: each attendance row stores the person's name and
//   id generation as of the event; deleting or renaming a person never changes
//   a kept row. Rows are never hard-deleted except by DeleteUser's purge:
//   corrections (add, void, amend) each write an audit row in the same
//   transaction. File paths are stored as given (the callers make them relative to
//   the data folder, DataDir::Relative).
// - Thread safety: every method may be called from any thread at once, and
//   several processes may share one database (SqliteStore: WAL, a busy timeout,
//   and one mutex per connection).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faceatt/clock.h"
#include "faceatt/pipeline.h"
#include "faceatt/status.h"

namespace faceatt {

struct User {
  std::string employee_id;
  std::string name;
  std::string department;
  bool active = true;
  std::string created_at;  // UTC ISO 8601
  std::string updated_at;
  int embeddings = 0;  // embeddings of any model
};

struct NewUser {
  std::string employee_id;  // "" = generate
  std::string name;
  std::string department;
  bool reuse_retired_id = false;  // an explicit id of a deleted person: a new generation
};

struct StoredEmbedding {
  int64_t id = 0;
  std::string employee_id;
  std::string model_id;
  Embedding vector{};
  double quality = 0;       // sharpness of the chip, for choosing thumbnails
  std::string source_path;  // data-folder-relative when inside it, else as given
  std::string source_sha256;
  std::string thumbnail_path;  // data-folder-relative
  std::string crop_path;       // data-folder-relative ("" when none)
  std::string created_at;
};

inline constexpr const char* kStatusSuccess = "success";
inline constexpr const char* kStatusUnknown = "unknown";
inline constexpr const char* kStatusFailed = "failed";

struct AttendanceRecord {
  int64_t id = 0;
  std::optional<std::string> employee_id;  // null for unknown faces and failures
  std::string type;                        // "IN" / "OUT" ("" when a failure had none)
  std::string status;                      // success | unknown | failed
  std::string reason;                      // "" for success; unknown, no_face, multi_face, ...
  std::string device_id;
  std::optional<double> distance;
  int64_t ts_server_ms = 0;  // stored as UTC ISO 8601
  std::string ts_client;     // as the device sent it
  std::string image_ref;     // data-folder-relative
  // The person's groups when the row was written, ';'-separated (schema 3).
  // Filled by the store from its groups; what a caller sets is ignored.
  std::string groups;
  // Schema 3 (issue 14). Written by the store at insert from the person the id
  // names then (name_at_event given by the caller is kept, e.g. an import).
  std::string name_at_event;
  int generation = 1;  // which person of that id (a re-used retired id is 2, 3, ...)
  // Read only: the person's name now; nullopt when deleted, or the id now
  // names a later generation.
  std::optional<std::string> current_name;
  bool voided = false;
  int corrections = 0;          // audit rows of void/amend on this row
  bool added_by_admin = false;  // written by AddCorrectedAttendance
};

// One correction of the attendance log (schema 3): who, when, why, before, after.
inline constexpr const char* kAuditAdd = "add";
inline constexpr const char* kAuditVoid = "void";
inline constexpr const char* kAuditAmend = "amend";
struct AuditEntry {
  int64_t id = 0;
  int64_t attendance_id = 0;
  std::string action;  // add | void | amend
  std::string actor;   // "cli:<user>" or "key:<name>" (who)
  int64_t at_ms = 0;   // when the correction was made
  std::string reason;
  std::string old_value;  // JSON object of the changed fields before ("" for add)
  std::string new_value;  // JSON object after
};
// Who corrects, and why: both required (1..200 bytes, no control characters).
struct Correction {
  std::string actor;
  std::string reason;
};

struct AttendanceQuery {
  std::optional<std::string> employee_id;
  std::optional<int64_t> from_ms;  // inclusive
  std::optional<int64_t> to_ms;    // exclusive
  std::optional<std::string> status;
  std::optional<std::string> type;
  // Rows whose groups snapshot (as of the event) holds this group name exactly.
  std::optional<std::string> group;
  int limit = 1000;  // <= 0: no limit
  int offset = 0;
  bool newest_first = true;
  bool include_voided = false;  // voided rows count for nothing unless asked
};

inline constexpr const char* kOutboxPending = "pending";
inline constexpr const char* kOutboxDelivered = "delivered";
inline constexpr const char* kOutboxFailed = "failed";  // gave up after max attempts

// A webhook event waiting in the outbox (schema 2).
struct OutboxItem {
  int64_t id = 0;
  std::string url;
  std::string event;  // attendance.recognized | attendance.unknown
  std::string body;   // the JSON payload, signed as is
  std::string status = kOutboxPending;
  int attempts = 0;
  int64_t next_attempt_ms = 0;
  std::string last_error;
  int last_http_status = 0;  // 0 when no answer came
  int64_t created_ms = 0;
  int64_t delivered_ms = 0;  // 0 while not delivered
  // Written only (AddAttendanceAfter): the shared per-person cooldown. The rows
  // of one write announce one event under the first row's key; they are stored
  // only when no event of that key was stored within cooldown_ms before the
  // record's time, across every process on the database ("" / 0: always).
  std::string cooldown_key;
  int64_t cooldown_ms = 0;
};

// Checks an explicit employee id: letters, digits, '_', '-', '.', 1..64 chars,
// starting with a letter or digit.
Status ValidateEmployeeId(const std::string& id);
// The refusal of a retired id (kAlreadyExists, reason "retired_id").
Status RetiredIdRefused(const std::string& employee_id);
// Checks a display name: 1..200 bytes of valid UTF-8 without control characters.
Status ValidateName(const std::string& name, const char* what = "name");

// A file reference the database holds (for fix-paths).
struct FileRef {
  std::string table;   // "embeddings" or "attendance"
  std::string column;  // source_path, thumbnail_path, crop_path, image_ref
  int64_t row_id = 0;
  std::string path;
  std::string sha256;  // known hash of the file ("" when none is stored)
};

// People and their face embeddings.
class PeopleStore {
 public:
  virtual ~PeopleStore() = default;

  // Creates a person and their embeddings in one transaction. An empty
  // employee_id is generated. Returns the stored user.
  virtual Result<User> CreateUser(const NewUser& user,
                                  const std::vector<StoredEmbedding>& embeddings) = 0;
  // Adds embeddings to an existing person (kNotFound otherwise), in one transaction.
  virtual Status AddEmbeddings(const std::string& employee_id,
                               const std::vector<StoredEmbedding>& embeddings) = 0;
  virtual Result<User> GetUser(const std::string& employee_id) = 0;
  // Everyone, active or not, by employee id.
  virtual Result<std::vector<User>> ListUsers() = 0;
  // Changes the given fields; kNotFound when absent.
  virtual Status UpdateUser(const std::string& employee_id, const std::optional<std::string>& name,
                            const std::optional<std::string>& department,
                            const std::optional<bool>& active) = 0;
  // Deletes a person and their embeddings (returned, so their files can be
  // removed: DeletePerson in maintenance.h does both); attendance rows stay
  // unless purge_attendance. The employee id is never generated again.
  virtual Result<std::vector<StoredEmbedding>> DeleteUser(const std::string& employee_id,
                                                          bool purge_attendance) = 0;

  // One person's embeddings of every model, active or not, oldest first;
  // kNotFound when there is no such person.
  virtual Result<std::vector<StoredEmbedding>> ListEmbeddings(const std::string& employee_id) = 0;
  // Deletes one of a person's embeddings and returns it (so its files can be
  // removed: DeletePersonPhoto in maintenance.h does both). kNotFound when the
  // person is absent or the embedding is not theirs; kConflict when it
  // is their last one (of any model): a person without embeddings could never be
  // identified again, so removing everyone's face is DeleteUser's job. Raises
  // the gallery version.
  virtual Result<StoredEmbedding> DeleteEmbedding(const std::string& employee_id,
                                                  int64_t embedding_id) = 0;
  // Embeddings of active people made by `model_id` (all models when empty),
  // oldest first: what the gallery loads.
  virtual Result<std::vector<StoredEmbedding>> LoadEmbeddings(const std::string& model_id) = 0;
  // Employee ids of people with embeddings but none made by `model_id`.
  virtual Result<std::vector<std::string>> UsersNeedingReenrollment(
      const std::string& model_id) = 0;
  // The employee id whose embedding of `model_id` came from an image with this
  // sha256 (nullopt when none).
  virtual Result<std::optional<std::string>> FindImage(const std::string& sha256,
                                                       const std::string& model_id) = 0;
  // Replaces one embedding's model, vector, quality, source sha256, thumbnail
  // and crop (bulk-enroll --update); its source path stays. No such embedding:
  // nothing changes (Ok).
  virtual Status ReplaceEmbedding(int64_t embedding_id, const StoredEmbedding& embedding) = 0;
  // Makes generated ids continue after <prefix><number> (an import keeps the
  // old system's ids); never moves the sequence back.
  virtual Status ContinueIdsAfter(int64_t number) = 0;

  // Groups (a class, a department): a person is in zero or more. Adds
  // (member) or removes a person; kNotFound for an unknown person,
  // kInvalidArgument for a bad group name; adding twice or removing a
  // non-member changes nothing. Deleting a person leaves their groups.
  virtual Status SetGroupMembership(const std::string& employee_id, const std::string& group,
                                    bool member) = 0;
  // Every group with its members' employee ids, by name.
  virtual Result<std::map<std::string, std::vector<std::string>>> ListGroups() = 0;

  // Gallery changes, for nodes that keep a gallery in memory (gallery_sync.h): a
  // counter that every change of what a gallery holds raises in the same
  // transaction, whoever makes it (any process): people created, renamed,
  // (de)activated or deleted, embeddings added, replaced or deleted, group
  // membership. It never goes back.
  virtual Result<int64_t> GalleryVersion() = 0;
  // Returns the version as soon as it differs from `known`, or after about
  // `timeout_ms` (then it may equal `known`). SqliteStore polls the counter
  // every kGalleryPollMs; a server database may be told instead.
  virtual Result<int64_t> WaitForGalleryChange(int64_t known, int timeout_ms) = 0;

  // Held while an enrollment checks new faces against everyone enrolled and
  // stores them, so that two processes (serve nodes, CLI jobs) enrolling the
  // same face at once do it one after the other, and the second, re-reading
  // the gallery under the lock, refuses the duplicate. Released when the
  // returned object is destroyed, or when its process dies. Blocks until held.
  class EnrollmentLock {
   public:
    virtual ~EnrollmentLock() = default;
  };
  virtual Result<std::unique_ptr<EnrollmentLock>> LockEnrollment() = 0;

  // Counts for /health and `users`.
  virtual Result<int64_t> CountUsers() = 0;
  virtual Result<int64_t> CountEmbeddings() = 0;
  // Whether the id belonged to a deleted person (and names nobody now).
  virtual Result<bool> IsRetiredId(const std::string& employee_id) = 0;
};

// The attendance log: successes, unknown faces and failures (audit rows).
class AttendanceStore {
 public:
  virtual ~AttendanceStore() = default;

  // Adds one row; kInvalidArgument when type is not IN/OUT/"" or status is not
  // success/unknown/failed.
  virtual Result<int64_t> AddAttendance(const AttendanceRecord& record) = 0;
  // Reads the rows `recent` selects (none when nullopt) and adds the record
  // `decide` makes of them, with the webhook rows that announce it, in one write
  // transaction: another process deciding at the same moment waits for it, so a
  // rule checked in `decide` (the cooldown) holds across processes, and a
  // record is never stored without its events (or the reverse). Returns the new
  // row's id; `decide`'s error is returned and nothing is added.
  struct AttendanceWrite {
    AttendanceRecord record;
    std::vector<OutboxItem> outbox;  // dropped whole by their cooldown (OutboxItem)
    int* events_stored = nullptr;    // when set: how many outbox rows were stored
  };
  using AttendanceDecider =
      std::function<Result<AttendanceWrite>(const std::vector<AttendanceRecord>& recent)>;
  virtual Result<int64_t> AddAttendanceAfter(const std::optional<AttendanceQuery>& recent,
                                             const AttendanceDecider& decide) = 0;
  // The rows the query selects (its limit and offset apply), and how many
  // there are in all (limit and offset ignored).
  virtual Result<std::vector<AttendanceRecord>> QueryAttendance(const AttendanceQuery& query) = 0;
  virtual Result<int64_t> CountAttendance(const AttendanceQuery& query) = 0;

  // Corrections (issue 14). Each is one transaction with its audit row; a
  // refused one (kInvalidArgument: bad type/time/actor/reason; kNotFound: no
  // such row or person; kConflict: the row is voided) changes nothing.
  // A row an admin adds (a forgotten check-out at its real time): a success
  // row for an existing person, marked added_by_admin, with an "add" audit row.
  virtual Result<int64_t> AddCorrectedAttendance(const AttendanceRecord& record,
                                                 const Correction& by) = 0;
  // Marks a row voided (kept, left out of queries unless include_voided).
  virtual Status VoidAttendance(int64_t id, const Correction& by) = 0;
  // Changes a row's type and/or time (at least one given).
  virtual Status AmendAttendance(int64_t id, const std::optional<std::string>& type,
                                 const std::optional<int64_t>& ts_ms, const Correction& by) = 0;
  // One row, voided or not; kNotFound when absent.
  virtual Result<AttendanceRecord> GetAttendance(int64_t id) = 0;
  // The row's corrections, oldest first; kNotFound when the row is absent.
  virtual Result<std::vector<AuditEntry>> AttendanceAudit(int64_t id) = 0;
};

// The webhook outbox (schema 2). Rows are added with the attendance they
// announce (AttendanceStore::AddAttendanceAfter).
class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  // Pending rows whose next attempt is at or before now_ms, oldest first.
  virtual Result<std::vector<OutboxItem>> DueOutbox(int64_t now_ms, int limit) = 0;
  // Several nodes deliver from one outbox: up to `limit` due rows that no other
  // owner holds a live lease on, leased to `owner` until now_ms + lease_ms in one
  // transaction (so two callers never get the same row while the lease lasts),
  // oldest first. UpdateOutbox ends the lease. A node that dies holding rows
  // leaves them to the others when the lease runs out.
  virtual Result<std::vector<OutboxItem>> ClaimOutbox(int64_t now_ms, int limit,
                                                      const std::string& owner,
                                                      int64_t lease_ms) = 0;
  // Writes status, attempts, next attempt, last error/status and delivery time,
  // and ends the row's lease.
  virtual Status UpdateOutbox(const OutboxItem& item) = 0;
  // Newest first; status "" = any.
  virtual Result<std::vector<OutboxItem>> ListOutbox(const std::string& status, int limit) = 0;
  virtual Result<int64_t> CountOutbox(const std::string& status) = 0;
};

// One table's rows for `faceatt store copy` (store_copy.h): each value as
// text (integers in decimal, reals as %.17g, the vector as its bytes);
// nullopt is NULL.
using TableRow = std::vector<std::optional<std::string>>;
struct TableData {
  std::string name;
  std::vector<TableRow> rows;
};

// Whole-database operations behind reset-users, fix-paths, backups and store copy.
class MaintenanceStore {
 public:
  virtual ~MaintenanceStore() = default;

  // Every table store copy moves, in its order and with its columns (tables.h),
  // rows in primary-key order: one consistent read.
  virtual Result<std::vector<TableData>> ExportTables() = 0;
  // Replaces every row of those tables with `tables` in one transaction (ids
  // kept; generated ids continue after them); on failure nothing changes.
  virtual Status ImportTables(const std::vector<TableData>& tables) = 0;

  // Deletes every person and embedding (returned, for their files) in one
  // transaction; attendance is kept, and no deleted id is generated again.
  virtual Result<std::vector<StoredEmbedding>> DeleteAllUsers() = 0;
  // A consistent copy of the live database at `destination` (a file path;
  // kIoError when it cannot be written).
  virtual Status Backup(const std::string& destination) = 0;
  // Every file path the database holds, and rewriting one (kInvalidArgument
  // for a table/column that holds no path; a row that is gone: nothing changes).
  virtual Result<std::vector<FileRef>> ListFileRefs() = 0;
  virtual Status UpdateFileRef(const FileRef& ref, const std::string& new_path) = 0;
  // A read-only consistency check; kCorruption when it finds damage.
  virtual Status Check() = 0;
  virtual int schema_version() const = 0;
};

// Everything a backend implements.
class Store : public PeopleStore,
              public AttendanceStore,
              public OutboxStore,
              public MaintenanceStore {};

struct StoreOptions {
  std::string path;  // database file; ":memory:" for tests
  std::string id_prefix = "EMP";
  int id_digits = 3;
  const Clock* clock = nullptr;  // nullptr = system clock
};

// The SQLite backend: one database file in WAL mode with foreign keys, a busy
// timeout and FULL sync; schema migrations run at open (kMigrations in
// sqlite_store.cc).
class SqliteStore : public Store {
 public:
  ~SqliteStore() override;

  Result<User> CreateUser(const NewUser& user,
                          const std::vector<StoredEmbedding>& embeddings) override;
  Status AddEmbeddings(const std::string& employee_id,
                       const std::vector<StoredEmbedding>& embeddings) override;
  Result<User> GetUser(const std::string& employee_id) override;
  Result<std::vector<User>> ListUsers() override;
  Status UpdateUser(const std::string& employee_id, const std::optional<std::string>& name,
                    const std::optional<std::string>& department,
                    const std::optional<bool>& active) override;
  Result<std::vector<StoredEmbedding>> DeleteUser(const std::string& employee_id,
                                                  bool purge_attendance) override;
  Result<std::vector<StoredEmbedding>> ListEmbeddings(const std::string& employee_id) override;
  Result<StoredEmbedding> DeleteEmbedding(const std::string& employee_id,
                                          int64_t embedding_id) override;
  Result<std::vector<StoredEmbedding>> LoadEmbeddings(const std::string& model_id) override;
  Result<std::vector<std::string>> UsersNeedingReenrollment(const std::string& model_id) override;
  Result<std::optional<std::string>> FindImage(const std::string& sha256,
                                               const std::string& model_id) override;
  Result<int64_t> AddAttendance(const AttendanceRecord& record) override;
  Result<int64_t> AddAttendanceAfter(const std::optional<AttendanceQuery>& recent,
                                     const AttendanceDecider& decide) override;
  Result<std::vector<AttendanceRecord>> QueryAttendance(const AttendanceQuery& query) override;
  Result<int64_t> CountAttendance(const AttendanceQuery& query) override;
  Result<int64_t> CountUsers() override;
  Result<int64_t> CountEmbeddings() override;
  Status SetGroupMembership(const std::string& employee_id, const std::string& group,
                            bool member) override;
  Result<std::map<std::string, std::vector<std::string>>> ListGroups() override;
  Result<bool> IsRetiredId(const std::string& employee_id) override;
  Result<int64_t> AddCorrectedAttendance(const AttendanceRecord& record,
                                         const Correction& by) override;
  Status VoidAttendance(int64_t id, const Correction& by) override;
  Status AmendAttendance(int64_t id, const std::optional<std::string>& type,
                         const std::optional<int64_t>& ts_ms, const Correction& by) override;
  Result<AttendanceRecord> GetAttendance(int64_t id) override;
  Result<std::vector<AuditEntry>> AttendanceAudit(int64_t id) override;

  Result<std::vector<StoredEmbedding>> DeleteAllUsers() override;
  // SQLite's online backup API.
  Status Backup(const std::string& destination) override;
  Result<std::vector<FileRef>> ListFileRefs() override;
  Status UpdateFileRef(const FileRef& ref, const std::string& new_path) override;
  Status ReplaceEmbedding(int64_t embedding_id, const StoredEmbedding& embedding) override;
  Status ContinueIdsAfter(int64_t number) override;
  Result<std::vector<OutboxItem>> DueOutbox(int64_t now_ms, int limit) override;
  Result<std::vector<OutboxItem>> ClaimOutbox(int64_t now_ms, int limit, const std::string& owner,
                                              int64_t lease_ms) override;
  Result<int64_t> GalleryVersion() override;
  // Polls the counter every kGalleryPollMs (one indexed read; another process's
  // change shows within that).
  Result<int64_t> WaitForGalleryChange(int64_t known, int timeout_ms) override;
  // An flock() on "<database>.enroll-lock" beside the file (a mutex for
  // ":memory:"), so it holds across processes on one machine.
  Result<std::unique_ptr<EnrollmentLock>> LockEnrollment() override;
  Status UpdateOutbox(const OutboxItem& item) override;
  Result<std::vector<OutboxItem>> ListOutbox(const std::string& status, int limit) override;
  Result<int64_t> CountOutbox(const std::string& status) override;
  Result<std::vector<TableData>> ExportTables() override;
  Status ImportTables(const std::vector<TableData>& tables) override;
  // PRAGMA quick_check.
  Status Check() override;
  int schema_version() const override;

  struct Impl;

 private:
  friend Result<std::unique_ptr<SqliteStore>> OpenSqliteStore(const StoreOptions& options);
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How often SqliteStore::WaitForGalleryChange reads the counter: a change by
// another process reaches a serve node's gallery well within a second.
inline constexpr int kGalleryPollMs = 100;

// The reason of a kUnavailable status from a store whose database cannot be
// reached (a server backend: down, restarting, network): HTTP answers 503 with
// it, and the next call tries again.
inline constexpr const char* kDatabaseUnavailable = "database_unavailable";

// Opens (creating and migrating as needed) a SQLite store.
Result<std::unique_ptr<SqliteStore>> OpenSqliteStore(const StoreOptions& options);

// Opens the store `url` names (store.url, FACEATT_STORE_URL, --store):
//   ""                                the SQLite file options.path (the data folder's)
//   "sqlite:PATH"                     a SQLite file
//   "postgresql://..." "postgres://"  PostgreSQL (postgres_store.h)
// Any other URL is kInvalidArgument; a server that cannot be reached or
// refuses the login kUnavailable. Messages never hold the URL's password.
Result<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options);

}  // namespace faceatt
