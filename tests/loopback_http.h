#pragma once
// A minimal HTTP/1.1 server on 127.0.0.1 for the tests of symp's OpenAI-compatible clients (gen-data's
// text and speech backends, the judge): one thread per connection, Content-Length bodies, "Connection:
// close". The handler fills in the reply, and can delay it (a client timeout) or fail it (429, 500).
// Debian's cpp-httplib ships its server as a compiled library that the test binaries do not link.
//
//   symp::test::LoopbackHttpServer server([](symp::test::HttpExchange& ex) { ex.reply = "{}"; });
//   client.base_url = server.url();  // http://127.0.0.1:PORT/v1
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace symp::test {

struct HttpExchange {
  std::string method, path, body;
  std::map<std::string, std::string> headers;  // names lower-cased
  int status = 200;
  std::string reply;
  std::string content_type = "application/json";
  double delay_s = 0;  // sleep before answering (a timeout when longer than the client's limit)
  std::vector<std::string> reply_headers;  // extra "Name: value" lines (e.g. "Retry-After: 1")
  size_t cut_after = std::string::npos;    // send only this many body bytes, then close (a reply cut short)
};

class LoopbackHttpServer {
 public:
  explicit LoopbackHttpServer(std::function<void(HttpExchange&)> handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 64) != 0) {
      throw std::runtime_error("loopback server: bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~LoopbackHttpServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    acceptor_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& t : workers_) t.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  // Every request received so far (method, path, lower-cased headers, body), in arrival order.
  std::vector<HttpExchange> requests() {
    std::lock_guard<std::mutex> lock(requests_mutex_);
    return requests_;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) break;
      std::lock_guard<std::mutex> lock(mutex_);
      workers_.emplace_back([this, client] { serve(client); });
    }
  }

  void serve(int client) {
    std::string data;
    char buf[65536];
    size_t header_end = std::string::npos, need = 0;
    while (true) {
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          auto pos = lower(data.substr(0, header_end)).find("content-length:");
          need = pos == std::string::npos ? 0 : std::stoul(data.substr(pos + 15));
        }
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + need) break;
    }
    if (header_end != std::string::npos) {
      HttpExchange ex;
      std::string head = data.substr(0, header_end);
      size_t line_end = head.find("\r\n");
      std::string request_line = head.substr(0, line_end);
      ex.method = request_line.substr(0, request_line.find(' '));
      ex.path = request_line.substr(ex.method.size() + 1, request_line.rfind(' ') - ex.method.size() - 1);
      for (size_t p = line_end; p != std::string::npos && p < head.size();) {
        size_t next = head.find("\r\n", p + 2);
        std::string line = head.substr(p + 2, next == std::string::npos ? std::string::npos : next - p - 2);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
          ex.headers[lower(line.substr(0, colon))] = line.substr(line.find_first_not_of(' ', colon + 1));
        }
        p = next;
      }
      ex.body = data.substr(header_end + 4, need);
      {
        std::lock_guard<std::mutex> lock(requests_mutex_);
        requests_.push_back(ex);
      }
      handler_(ex);
      if (ex.delay_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(ex.delay_s));
      std::string out = "HTTP/1.1 " + std::to_string(ex.status) + " X\r\nContent-Type: " + ex.content_type +
                        "\r\nContent-Length: " + std::to_string(ex.reply.size()) + "\r\n";
      for (const auto& h : ex.reply_headers) out += h + "\r\n";
      out += "Connection: close\r\n\r\n" + ex.reply.substr(0, ex.cut_after);
      ::send(client, out.data(), out.size(), MSG_NOSIGNAL);
    }
    ::close(client);
  }

  static std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  std::function<void(HttpExchange&)> handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::mutex requests_mutex_;  // apart from mutex_, which the destructor holds while joining workers
  std::vector<HttpExchange> requests_;
};

}  // namespace symp::test
