// The PostgreSQL backend of Store (store.h), for several `faceatt serve` nodes
// and CLI jobs sharing one database (docs/scale-out.md). Same contract and
// meaning as SqliteStore; what differs:
// - Schema: the same versions (1 people, 2 outbox, 3 history, 4 groups, 5
//   several nodes: gallery version with NOTIFY, outbox owners, cooldowns), kept
//   in schema_migrations; each migration is one transaction under an advisory
//   lock, so nodes starting together migrate once. A database whose schema is
//   newer than this faceatt is refused (kInvalidArgument: upgrade faceatt).
//   Embeddings are bytea (512 bytes); times are the same UTC ISO 8601 text.
// - Connections: a pool, one connection per concurrent caller, opened on
//   demand. A connection the server dropped is replaced on the next call; a
//   server that cannot be reached is kUnavailable (nothing was changed),
//   other database errors kIoError. Messages never hold the password.
// - Across nodes: AddAttendanceAfter holds a per-person advisory lock
//   (pg_advisory_xact_lock) for its read-decide-write, so a cooldown holds
//   across nodes; generated ids come from a locked counter row; DueOutbox
//   claims rows FOR UPDATE SKIP LOCKED and leases them (options.outbox_lease_ms)
//   so two nodes never deliver one event at once and a dead node's claims come
//   due again when the lease ends; UpdateOutbox ends the lease.
// - Backup(): runs pg_dump --format=custom into the destination (restore with
//   pg_restore); kUnavailable when pg_dump is missing, kIoError when it fails.
// Thread safety: every method may be called from any thread at once.
#pragma once

#include <memory>
#include <string>

#include "faceatt/store.h"

namespace faceatt {

struct PostgresOptions {
  std::string url;  // postgresql://user[:password]@host[:port]/db[?options]
  // How long a claimed webhook event stays invisible to other nodes: longer
  // than a delivery takes (webhooks.timeout_seconds, 10 s by default).
  int64_t outbox_lease_ms = 60'000;
};

class PostgresStore : public Store {
 public:
  ~PostgresStore() override;

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
  // pg_dump --format=custom to destination (a temporary file renamed when whole).
  Status Backup(const std::string& destination) override;
  Result<std::vector<FileRef>> ListFileRefs() override;
  Status UpdateFileRef(const FileRef& ref, const std::string& new_path) override;
  Status ReplaceEmbedding(int64_t embedding_id, const StoredEmbedding& embedding) override;
  Status ContinueIdsAfter(int64_t number) override;
  Result<std::vector<OutboxItem>> DueOutbox(int64_t now_ms, int limit) override;
  Result<std::vector<OutboxItem>> ClaimOutbox(int64_t now_ms, int limit, const std::string& owner,
                                              int64_t lease_ms) override;
  Result<int64_t> GalleryVersion() override;
  // LISTENs on faceatt_gallery on a connection of its own (reopened after a
  // loss, then the version is read again), so a change shows at its commit.
  Result<int64_t> WaitForGalleryChange(int64_t known, int timeout_ms) override;
  Status UpdateOutbox(const OutboxItem& item) override;
  Result<std::vector<OutboxItem>> ListOutbox(const std::string& status, int limit) override;
  Result<int64_t> CountOutbox(const std::string& status) override;
  Result<std::vector<TableData>> ExportTables() override;
  Status ImportTables(const std::vector<TableData>& tables) override;
  // Reads every table and checks the references (no orphan embeddings or groups,
  // every vector 512 bytes).
  Status Check() override;
  int schema_version() const override;

  // Cross-node enrollment (PeopleStore::LockEnrollment): a session-level
  // advisory lock on a connection of its own, released when the returned
  // object is destroyed, or by the server if the process dies.
  // kUnavailable when the server cannot be reached.
  Result<std::unique_ptr<EnrollmentLock>> LockEnrollment() override;

  struct Impl;

 private:
  friend Result<std::unique_ptr<PostgresStore>> OpenPostgresStore(const StoreOptions&,
                                                                  const PostgresOptions&);
  explicit PostgresStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Connects, and creates or migrates the schema as needed. options.path is
// unused; id_prefix, id_digits and clock mean what they mean for SQLite.
// kUnavailable when the server cannot be reached or refuses the login.
Result<std::unique_ptr<PostgresStore>> OpenPostgresStore(const StoreOptions& options,
                                                         const PostgresOptions& pg);

// The URL with its password (user:PASSWORD@ and password=...) replaced by ***,
// for messages and logs.
std::string RedactUrl(const std::string& url);

}  // namespace faceatt
