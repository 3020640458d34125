// A small bounded HTTP load client for `faceatt serve` (scripts/bench.sh):
// C clients each send R requests of POST PATH with the image as multipart field
// `image`, one after another on a keep-alive connection, and the latencies are
// reported as p50/p99 and throughput. Loopback only. Several ports
// (--port 8001,8002,8003: serve nodes) take the clients in turn.
//
//   faceatt_loadclient --port 8000 --image photo.jpg --clients 2 --requests 50
//                      [--path /identify] [--header "X-API-Key: k"] [--warmup 3]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  int port = 8000;
  std::vector<int> ports;  // client c talks to ports[c % size]
  std::string image;
  std::string path = "/identify";
  std::vector<std::string> headers;
  int clients = 1;
  int requests = 50;
  int warmup = 3;
};

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads one response (Content-Length or chunked is not needed: the server sends
// Content-Length); returns the status code, or -1.
int ReadResponse(int fd, std::string& buffer) {
  size_t header_end;
  char chunk[16384];
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return -1;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  std::string head = buffer.substr(0, header_end);
  int status = -1;
  std::sscanf(head.c_str(), "HTTP/1.%*d %d", &status);
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  size_t length = 0;
  if (size_t p = lower.find("content-length:"); p != std::string::npos)
    length = std::stoul(lower.substr(p + 15));
  const size_t total = header_end + 4 + length;
  while (buffer.size() < total) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return -1;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  buffer.erase(0, total);
  return status;
}

std::string Request(const Options& o, const std::string& image_bytes) {
  const std::string boundary = "faceattbenchboundary7d3f";
  std::string body =
      "--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"probe.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n" +
      image_bytes + "\r\n--" + boundary + "--\r\n";
  std::ostringstream r;
  r << "POST " << o.path << " HTTP/1.1\r\nHost: 127.0.0.1:" << o.port
    << "\r\nConnection: keep-alive\r\n";
  for (const auto& h : o.headers) r << h << "\r\n";
  r << "Content-Type: multipart/form-data; boundary=" << boundary
    << "\r\nContent-Length: " << body.size() << "\r\n\r\n"
    << body;
  return r.str();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "faceatt_loadclient: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") {
      std::stringstream list(next());
      for (std::string p; std::getline(list, p, ',');) o.ports.push_back(std::stoi(p));
      if (!o.ports.empty()) o.port = o.ports.front();
    } else if (a == "--image")
      o.image = next();
    else if (a == "--path")
      o.path = next();
    else if (a == "--header")
      o.headers.push_back(next());
    else if (a == "--clients")
      o.clients = std::stoi(next());
    else if (a == "--requests")
      o.requests = std::stoi(next());
    else if (a == "--warmup")
      o.warmup = std::stoi(next());
    else {
      std::cerr << "usage: faceatt_loadclient --port N --image FILE [--clients C] [--requests R "
                   "per client]"
                   " [--path /identify] [--header 'K: V'] [--warmup W]\n";
      return 2;
    }
  }
  if (o.image.empty() || o.clients < 1 || o.clients > 64 || o.requests < 1 || o.requests > 100000) {
    std::cerr << "faceatt_loadclient: need --image, 1..64 clients, 1..100000 requests\n";
    return 2;
  }
  std::ifstream in(o.image, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) {
    std::cerr << "faceatt_loadclient: cannot read " << o.image << "\n";
    return 2;
  }
  const std::string request = Request(o, bytes);

  std::vector<std::vector<double>> latencies(static_cast<size_t>(o.clients));
  std::atomic<int> failures{0}, non_200{0};
  if (o.ports.empty()) o.ports.push_back(o.port);
  auto client = [&](int c) {
    const int port = o.ports[static_cast<size_t>(c) % o.ports.size()];
    int fd = Connect(port);
    if (fd < 0) {
      failures += o.requests;
      return;
    }
    std::string buffer;
    for (int r = 0; r < o.requests + o.warmup; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      int status = SendAll(fd, request) ? ReadResponse(fd, buffer) : -1;
      if (status < 0) {
        // The server may close a kept-alive connection between requests: the
        // same request once more on a new one; a second failure counts.
        ::close(fd);
        buffer.clear();
        if ((fd = Connect(port)) < 0) {
          failures += o.requests + o.warmup - r;
          return;
        }
        t0 = std::chrono::steady_clock::now();
        status = SendAll(fd, request) ? ReadResponse(fd, buffer) : -1;
      }
      auto t1 = std::chrono::steady_clock::now();
      if (status < 0) {
        ++failures;
        ::close(fd);
        buffer.clear();
        if ((fd = Connect(port)) < 0) return;
        continue;
      }
      if (status != 200) ++non_200;
      if (r >= o.warmup)
        latencies[static_cast<size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    ::close(fd);
  };
  // Warm-up requests are sent by every client before timing starts for real;
  // the wall clock covers all timed and warm-up requests, so throughput is
  // computed from the timed latencies' span per client instead.
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) threads.emplace_back(client, c);
  for (auto& t : threads) t.join();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  const int total = o.clients * (o.requests + o.warmup);
  std::printf(
      "clients=%d requests=%zu p50_ms=%.1f p99_ms=%.1f throughput_rps=%.1f non200=%d failures=%d\n",
      o.clients, all.size(), Percentile(all, 50), Percentile(all, 99),
      wall > 0 ? (total - failures.load()) / wall : 0.0, non_200.load(), failures.load());
  return failures.load() == 0 && non_200.load() == 0 ? 0 : 1;
}
