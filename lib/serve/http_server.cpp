// Boost.Beast does the HTTP/1.1 and WebSocket framing; this file adds the threads, limits and timeouts.
// Synchronous Beast on a thread per connection keeps a request's life in one readable function; a watchdog
// thread enforces the timeouts by shutting a late socket down (which wakes its blocked read).
#include "symp/serve/http_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "symp/core/error.h"
#include "symp/core/log.h"

namespace symp::serve {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

double now_s() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

struct Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)), fd(socket.native_handle()) {}
  tcp::socket socket;
  int fd;
  std::atomic<double> deadline{0};  // steady seconds; 0 = none
  std::atomic<bool> idle{true};     // waiting for a request (a stop may close it)
  std::atomic<bool> shut{false};
};

// Waits until `fd` is readable, `deadline` passes or `stop` is set; true when readable.
bool wait_readable(int fd, double deadline, const std::atomic<bool>& stop) {
  while (!stop) {
    const double left = deadline - now_s();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min(left, 0.1) * 1000) + 1);
    if (r > 0) return true;
  }
  return false;
}

bool peer_closed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
  if (p.revents & POLLIN) {
    char c;
    return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }
  return false;
}

class Writer : public ResponseWriter {
 public:
  Writer(Connection& c, unsigned version, bool keep_alive)
      : c_(c), version_(version), keep_alive_(keep_alive) {}

  void send(int status, const std::string& content_type, const std::string& body,
            const HeaderList& headers) override {
    if (started_) throw RuntimeError("http: a response was already sent");
    started_ = true;
    http::response<http::string_body> res{static_cast<http::status>(status), version_};
    res.set(http::field::server, "symp");
    res.set(http::field::content_type, content_type);
    for (const auto& [k, v] : headers) res.set(k, v);
    res.keep_alive(keep_alive_);
    res.body() = body;
    res.prepare_payload();
    beast::error_code ec;
    http::write(c_.socket, res, ec);
    broken_ = broken_ || bool(ec);
  }

  void start_stream(int status, const std::string& content_type, const HeaderList& headers) override {
    if (started_) throw RuntimeError("http: a response was already sent");
    started_ = streaming_ = true;
    http::response<http::empty_body> res{static_cast<http::status>(status), version_};
    res.set(http::field::server, "symp");
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-cache");
    for (const auto& [k, v] : headers) res.set(k, v);
    res.keep_alive(keep_alive_);
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    beast::error_code ec;
    http::write_header(c_.socket, sr, ec);
    broken_ = broken_ || bool(ec);
  }

  bool write(const std::string& piece) override {
    if (!streaming_) throw RuntimeError("http: write() before start_stream()");
    if (broken_) return false;
    if (piece.empty()) return true;
    beast::error_code ec;
    net::write(c_.socket, http::make_chunk(net::buffer(piece)), ec);
    broken_ = bool(ec);
    return !broken_;
  }

  void end_stream() override {
    if (!streaming_ || ended_) return;
    ended_ = true;
    if (broken_) return;
    beast::error_code ec;
    net::write(c_.socket, http::make_chunk_last(), ec);
    broken_ = bool(ec);
  }

  bool client_gone() override { return broken_ || peer_closed(c_.fd); }

  bool started() const { return started_; }
  bool reusable() const { return keep_alive_ && !broken_ && (!streaming_ || ended_); }

 private:
  Connection& c_;
  unsigned version_;
  bool keep_alive_;
  bool started_ = false, streaming_ = false, ended_ = false, broken_ = false;
};

class WebSocket : public WebSocketConnection {
 public:
  WebSocket(websocket::stream<tcp::socket&>& ws, Connection& c) : ws_(ws), c_(c) {}
  std::optional<std::string> receive() override {
    beast::flat_buffer buffer;
    beast::error_code ec;
    c_.idle = true;
    ws_.read(buffer, ec);
    c_.idle = false;
    if (ec) return std::nullopt;
    return beast::buffers_to_string(buffer.data());
  }
  bool readable() override {
    pollfd p{c_.fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }
  bool send(const std::string& text) override {
    std::lock_guard<std::mutex> lock(send_mutex_);
    if (closed_) return false;
    beast::error_code ec;
    ws_.text(true);
    ws_.write(net::buffer(text), ec);
    if (ec) closed_ = true;
    return !ec;
  }
  void close() override {
    std::lock_guard<std::mutex> lock(send_mutex_);
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    ws_.close(websocket::close_code::normal, ec);
  }

 private:
  websocket::stream<tcp::socket&>& ws_;
  Connection& c_;
  std::mutex send_mutex_;
  bool closed_ = false;
};

std::string error_json(const std::string& message, const std::string& type) {
  // Built by hand: this layer has no JSON library, and the message is ours (no quotes or backslashes).
  return R"({"error":{"message":")" + message + R"(","type":")" + type + R"(","param":null,"code":null}})";
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandlers handlers;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::atomic<bool> stopping{false};
  mutable std::mutex mutex;
  std::condition_variable all_closed;
  std::set<Connection*> connections;

  void shut(Connection& c) {
    if (!c.shut.exchange(true)) ::shutdown(c.fd, SHUT_RDWR);
  }

  void watchdog() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        if (stopping && connections.empty()) return;
        const double now = now_s();
        for (auto* c : connections) {
          const double d = c->deadline;
          if ((d > 0 && now > d) || (stopping && c->idle)) shut(*c);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  void serve_connection(Connection& c) {
    beast::flat_buffer buffer;
    for (;;) {
      c.idle = true;
      c.deadline = 0;
      if (buffer.size() == 0 && !wait_readable(c.fd, now_s() + options.idle_timeout_s, stopping)) break;
      c.idle = false;
      c.deadline = now_s() + options.header_timeout_s;
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(64 * 1024);
      beast::error_code ec;
      http::read(c.socket, buffer, parser, ec);
      c.deadline = 0;
      if (ec == http::error::body_limit) {
        Writer w(c, 11, false);
        w.send(413, "application/json",
               error_json(
                   fmt::format("request body over this server's limit of {} bytes", options.max_body_bytes),
                   "invalid_request_error"),
               {});
        break;
      }
      if (ec == http::error::end_of_stream || ec == net::error::eof) break;
      if (ec) {
        if (!c.shut && ec != net::error::connection_reset) {
          Writer w(c, 11, false);
          w.send(400, "application/json", error_json("malformed HTTP request", "invalid_request_error"), {});
        }
        break;
      }
      auto& req = parser.get();
      HttpRequest r;
      r.method = std::string(req.method_string());
      const std::string target(req.target());
      const auto q = target.find('?');
      r.path = target.substr(0, q);
      if (q != std::string::npos) r.query = target.substr(q + 1);
      for (const auto& field : req) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char ch) { return std::tolower(ch); });
        r.headers[name] = std::string(field.value());
      }
      r.body = std::move(req.body());

      if (websocket::is_upgrade(req) && handlers.accepts_websocket && handlers.accepts_websocket(r)) {
        websocket::stream<tcp::socket&> ws(c.socket);
        ws.read_message_max(options.max_websocket_message);
        // A browser cannot send headers on a WebSocket, so it offers its credentials as a subprotocol;
        // the handshake must name one of the offered protocols back or the browser drops the connection.
        const std::string offered = r.header("sec-websocket-protocol");
        if (!offered.empty()) {
          const std::string first = offered.substr(0, offered.find(','));
          ws.set_option(websocket::stream_base::decorator([first](websocket::response_type& res) {
            res.set(http::field::sec_websocket_protocol, first);
          }));
        }
        ws.accept(req, ec);
        if (ec) break;
        WebSocket conn(ws, c);
        try {
          handlers.on_websocket(r, conn);
        } catch (const std::exception& e) {
          log_warn("serve", "websocket {}: {}", r.path, e.what());
        }
        conn.close();
        break;
      }

      Writer w(c, req.version(), req.keep_alive() && !stopping);
      try {
        handlers.on_request(r, w);
      } catch (const std::exception& e) {
        log_warn("serve", "{} {}: {}", r.method, r.path, e.what());
        if (!w.started()) w.send(500, "application/json", error_json("internal error", "server_error"), {});
      }
      if (!w.started()) w.send(500, "application/json", error_json("no response", "server_error"), {});
      if (!w.reusable() || stopping) break;
    }
    beast::error_code ignored;
    c.socket.shutdown(tcp::socket::shutdown_send, ignored);
    c.socket.close(ignored);
  }
};

HttpServer::HttpServer(const HttpServerOptions& options, HttpHandlers handlers)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->handlers = std::move(handlers);
  boost::system::error_code ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) throw UsageError("--host: '" + options.host + "' is not an IP address");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw RuntimeError(fmt::format("cannot listen on {}:{} ({})", options.host, options.port, ec.message()));
}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

size_t HttpServer::open_connections() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->connections.size();
}

void HttpServer::stop() {
  impl_->stopping = true;
}

void HttpServer::run() {
  auto& m = *impl_;
  std::thread watchdog([&] { m.watchdog(); });
  const int fd = m.acceptor.native_handle();
  while (!m.stopping) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    boost::system::error_code ec;
    tcp::socket socket(m.ioc);
    m.acceptor.accept(socket, ec);
    if (ec) continue;
    auto c = std::make_unique<Connection>(std::move(socket));
    {
      std::lock_guard<std::mutex> lock(m.mutex);
      if (m.connections.size() >= m.options.max_connections) {
        Writer w(*c, 11, false);
        w.send(503, "application/json", error_json("too many connections", "server_error"),
               {{"Retry-After", "1"}});
        continue;
      }
      m.connections.insert(c.get());
    }
    std::thread([&m, conn = c.release()] {
      std::unique_ptr<Connection> owned(conn);
      try {
        m.serve_connection(*owned);
      } catch (const std::exception& e) {
        log_warn("serve", "connection: {}", e.what());
      }
      std::lock_guard<std::mutex> lock(m.mutex);
      m.connections.erase(owned.get());
      owned.reset();
      m.all_closed.notify_all();
    }).detach();
  }
  boost::system::error_code ignored;
  m.acceptor.close(ignored);
  {
    std::unique_lock<std::mutex> lock(m.mutex);
    m.all_closed.wait(lock, [&] { return m.connections.empty(); });
  }
  watchdog.join();
}

}  // namespace symp::serve
