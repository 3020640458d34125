// A throw-away PostgreSQL for tests: one cluster per test process, made with
// Debian's `postgresql` binaries (initdb, pg_ctl from /usr/lib/postgresql/<v>/bin)
// in a temporary folder, trust authentication, listening on 127.0.0.1 on a
// free port with its unix socket in that folder. It starts on first use and
// is stopped and removed when the process exits. When the tests run as root
// the server runs as the `postgres` user (PostgreSQL refuses root), and the
// folder belongs to it.
//
// Each test asks for a fresh database (CREATE DATABASE t_<n>), so tests do
// not see each other's rows. A missing package or a server that does not
// start FAILS the test (never skips), with a message naming the package.
//
// Thread safety: call from the test's main thread.
#pragma once

#include <string>

namespace faceatt::testing {

class PostgresCluster {
 public:
  // The process's cluster, started on first call; nullptr (after ADD_FAILURE
  // with the reason) when it cannot start.
  static PostgresCluster* Shared();

  // A new empty database; its URL (postgresql://user@127.0.0.1:port/t_<n>),
  // or "" after ADD_FAILURE.
  std::string NewDatabase();
  // The URL of database `db` on this cluster.
  std::string Url(const std::string& db) const;

  // Stops the server (fast shutdown: connections are cut) and starts it again
  // on the same port and data; for tests of a database that goes away.
  bool Stop();
  bool Start();

  int port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& dir() const { return dir_; }
  ~PostgresCluster();

 private:
  PostgresCluster() = default;
  bool Init(std::string& error);
  // Runs a shell command as the server's user, output appended to the log.
  int RunAsOwner(const std::string& command) const;

  std::string bin_;   // /usr/lib/postgresql/<v>/bin
  std::string dir_;   // temporary folder: data/, the socket, server.log
  std::string user_;  // the cluster's superuser (the OS user that ran initdb)
  int port_ = 0;
  int next_db_ = 0;
  bool running_ = false;
};

}  // namespace faceatt::testing
