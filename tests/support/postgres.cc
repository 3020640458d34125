#include "support/postgres.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "support/testing.h"

namespace faceatt::testing {
namespace fs = std::filesystem;

namespace {
// The server of Debian's `postgresql` package; several versions may sit side
// by side: the newest is used.
std::string FindBinDir() {
  std::string best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string v = e.path().filename().string();
    if (!fs::exists(e.path() / "bin/initdb") || !fs::exists(e.path() / "bin/pg_ctl")) continue;
    const int n = std::atoi(v.c_str());
    if (n > best_version) best_version = n, best = (e.path() / "bin").string();
  }
  return best;
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

std::unique_ptr<PostgresCluster>& SharedSlot() {
  static std::unique_ptr<PostgresCluster> slot;  // destroyed (server stopped) at exit
  return slot;
}
}  // namespace

PostgresCluster* PostgresCluster::Shared() {
  static std::string error;
  auto& slot = SharedSlot();
  if (!slot && error.empty()) {
    std::unique_ptr<PostgresCluster> c(new PostgresCluster());
    if (c->Init(error)) slot = std::move(c);
  }
  if (!slot) ADD_FAILURE() << "no test PostgreSQL: " << error;
  return slot.get();
}

int PostgresCluster::RunAsOwner(const std::string& command) const {
  const std::string logged = command + " >>" + dir_ + "/server.log 2>&1";
  if (::geteuid() != 0) return std::system(logged.c_str());
  return std::system(("runuser -u postgres -- sh -c '" + logged + "'").c_str());
}

bool PostgresCluster::Init(std::string& error) {
  bin_ = FindBinDir();
  if (bin_.empty()) {
    error =
        "PostgreSQL's server programs (initdb, pg_ctl) are not in /usr/lib/postgresql/*/bin: "
        "install the Debian package postgresql (scripts/setup.sh)";
    return false;
  }
  std::string tmpl = (fs::temp_directory_path() / "faceatt-pg-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    error = "cannot make a temporary folder";
    return false;
  }
  dir_ = tmpl;
  if (::geteuid() == 0) {
    // PostgreSQL refuses to run as root: the folder and the server are postgres's.
    const passwd* pw = ::getpwnam("postgres");
    if (!pw || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      error = "running as root needs the postgres user (Debian package postgresql)";
      return false;
    }
    user_ = "postgres";
  } else {
    const passwd* pw = ::getpwuid(::geteuid());
    user_ = pw ? pw->pw_name : "postgres";
  }
  if (RunAsOwner(bin_ + "/initdb -D " + dir_ + "/data -A trust -U " + user_ +
                 " -E UTF8 --locale=C --no-sync") != 0) {
    error = "initdb failed: " + ReadFile(dir_ + "/server.log");
    return false;
  }
  port_ = FreePort();
  if (!Start()) {
    error = "the test server did not start: " + ReadFile(dir_ + "/server.log");
    return false;
  }
  return true;
}

bool PostgresCluster::Start() {
  // fsync off: a test cluster is thrown away, and syncing costs seconds per test.
  running_ = RunAsOwner(bin_ + "/pg_ctl -D " + dir_ + "/data -w -t 60 -o \"-p " +
                        std::to_string(port_) + " -k " + dir_ +
                        " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" "
                        "start") == 0;
  return running_;
}

bool PostgresCluster::Stop() {
  if (!running_) return true;
  running_ = RunAsOwner(bin_ + "/pg_ctl -D " + dir_ + "/data -w -t 60 -m fast stop") != 0;
  return !running_;
}

PostgresCluster::~PostgresCluster() {
  Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PostgresCluster::Url(const std::string& db) const {
  return "postgresql://" + user_ + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string PostgresCluster::NewDatabase() {
  const std::string name = "t_" + std::to_string(++next_db_);
  PGconn* conn = PQconnectdb(Url("postgres").c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, ("CREATE DATABASE " + name).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) error = PQerrorMessage(conn);
    PQclear(r);
  }
  PQfinish(conn);
  if (!error.empty()) {
    ADD_FAILURE() << "creating test database " << name << ": " << error;
    return "";
  }
  return Url(name);
}

}  // namespace faceatt::testing
