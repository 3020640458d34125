#include "http/connections.h"

#include <dlfcn.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

// The socket the last accept() on this thread returned. httplib's listener
// calls accept() and then its task queue's enqueue() on the same thread with
// nothing between that we could hook, so accept() is wrapped here: the
// executable's definition comes before libc's for the httplib library too.
thread_local int last_accepted = -1;

}  // namespace

extern "C" int accept(int fd, sockaddr* addr, socklen_t* len) {
  using AcceptFn = int (*)(int, sockaddr*, socklen_t*);
  static const auto real = reinterpret_cast<AcceptFn>(dlsym(RTLD_NEXT, "accept"));
  const int sock = real(fd, addr, len);
  last_accepted = sock;
  return sock;
}

namespace faceatt::http {
namespace {

// "address:port" of the peer, formatted as httplib formats remote_addr.
std::string PeerKey(int fd, std::string* address) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, port, sizeof port,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "";
  *address = host;
  return std::string(host) + ":" + port;
}

std::string RequestKey(const httplib::Request& req) {
  return req.remote_addr + ":" + std::to_string(req.remote_port);
}

}  // namespace

class Connections::Queue : public httplib::TaskQueue {
 public:
  Queue(Connections* owner, int threads) : owner_(owner), pool_(threads) {}
  void enqueue(std::function<void()> fn) override {
    const int fd = last_accepted;
    last_accepted = -1;
    std::string key;
    if (fd < 0 || !owner_->Open(fd, &key)) return pool_.enqueue(std::move(fn));
    pool_.enqueue([this, fn = std::move(fn), key] {
      fn();
      owner_->Close(key);
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  Connections* owner_;
  httplib::ThreadPool pool_;
};

Connections::Connections(std::chrono::milliseconds request_timeout, int max_per_address)
    : timeout_(request_timeout), max_per_address_(max_per_address) {
  watchdog_ = std::thread([this] { Watch(); });
}

Connections::~Connections() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  watchdog_.join();
  for (auto& [key, c] : conns_) ::close(c.fd);
}

httplib::TaskQueue* Connections::NewTaskQueue(int threads) { return new Queue(this, threads); }

bool Connections::Open(int fd, std::string* key) {
  std::string address;
  *key = PeerKey(fd, &address);
  if (key->empty()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = per_address_.find(address);
      it != per_address_.end() && it->second >= max_per_address_) {
    static const std::string kBody =
        "{\"error\":{\"code\":\"too_many_connections\",\"message\":\"too many open "
        "connections from this address (server.max_connections_per_address)\"}}";
    static const std::string kRefusal =
        "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: "
        "application/json\r\nContent-Length: " +
        std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
    (void)!::send(fd, kRefusal.data(), kRefusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd, SHUT_RDWR);  // httplib reads EOF at once and closes it
    return false;
  }
  const int watched = ::dup(fd);
  if (watched < 0) return false;
  ++per_address_[address];
  conns_[*key] = Conn{watched, address, std::chrono::steady_clock::now() + timeout_};
  return true;
}

void Connections::Close(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conns_.find(key);
  if (it == conns_.end()) return;
  ::close(it->second.fd);
  if (--per_address_[it->second.address] == 0) per_address_.erase(it->second.address);
  conns_.erase(it);
}

void Connections::Handling(const httplib::Request& req) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = conns_.find(RequestKey(req)); it != conns_.end()) it->second.handling = true;
}

void Connections::Answered(const httplib::Request& req) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = conns_.find(RequestKey(req)); it != conns_.end()) {
    it->second.handling = false;
    it->second.deadline = std::chrono::steady_clock::now() + timeout_;
  }
}

int Connections::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(conns_.size());
}

void Connections::Watch() {
  // Checked a few times a second: a deadline of seconds is kept to ~0.25 s.
  constexpr auto kTick = std::chrono::milliseconds(250);
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, kTick, [this] { return stop_; })) {
    const auto now = std::chrono::steady_clock::now();
    for (auto& [key, c] : conns_) {
      if (c.handling || now < c.deadline) continue;
      ::shutdown(c.fd, SHUT_RDWR);  // httplib's read fails; it closes the connection
      c.deadline = std::chrono::steady_clock::time_point::max();
    }
  }
}

}  // namespace faceatt::http
