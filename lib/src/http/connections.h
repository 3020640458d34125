// Connections: the limits httplib has no setting for. A whole request
// (headers and body) must arrive within server.request_timeout_seconds, not
// only each read within read_timeout_seconds (a client sending one byte every
// few seconds would hold a thread forever), and one client address may hold at
// most server.max_connections_per_address connections open (more are answered
// 429 and closed).
//
// httplib hands an accepted socket to its task queue and nothing else; this
// class is that task queue (NewTaskQueue), and learns each socket from accept()
// (connections.cc). A watchdog thread shuts down the socket of a connection
// whose request is late; from the moment a route starts handling a request
// (Handling) until its answer is written (Answered) there is no deadline, so
// long answers (SSE, MJPEG) are not cut.
//
// Thread safety: every method from any thread.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace faceatt::http {

class Connections {
 public:
  Connections(std::chrono::milliseconds request_timeout, int max_per_address);
  ~Connections();  // stops the watchdog

  // A thread pool of `threads` that registers each connection it is given.
  httplib::TaskQueue* NewTaskQueue(int threads);

  // `req` is received: its connection has no deadline until Answered.
  void Handling(const httplib::Request& req);
  // The answer to `req` is written: the next request's deadline starts.
  void Answered(const httplib::Request& req);

  // Open connections now (for tests and metrics).
  int open() const;

 private:
  class Queue;
  struct Conn {
    int fd;  // a dup of httplib's socket: shut down, never closed under it
    std::string address;
    std::chrono::steady_clock::time_point deadline;
    bool handling = false;
  };

  // Registers the socket just accepted on this thread; false when its address
  // has too many open (then it is answered 429 and shut down).
  bool Open(int fd, std::string* key);
  void Close(const std::string& key);
  void Watch();

  const std::chrono::milliseconds timeout_;
  const int max_per_address_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::string, Conn> conns_;  // by "address:port", as httplib's remote_addr/port
  std::map<std::string, int> per_address_;
  std::thread watchdog_;
};

}  // namespace faceatt::http
