#pragma once
// A small HTTP/1.1 + WebSocket server for `symp serve` (Boost.Beast underneath, hidden here): a thread per
// connection, bodies and headers bounded, idle and slow clients timed out, whole or streamed (chunked)
// replies, and a stop that refuses new connections while the requests in flight finish. What a request
// means is the handlers' business.
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace symp::serve {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // the target without its query string
  std::string query;                           // after '?', undecoded ("" = none)
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string header(const std::string& lowercase_name) const {
    const auto it = headers.find(lowercase_name);
    return it == headers.end() ? "" : it->second;
  }
};

using HeaderList = std::map<std::string, std::string>;

// The answer to one request: either send() once, or start_stream(), write() pieces, end_stream().
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void send(int status, const std::string& content_type, const std::string& body,
                    const HeaderList& headers = {}) = 0;
  virtual void start_stream(int status, const std::string& content_type, const HeaderList& headers = {}) = 0;
  // False once the client has gone (the rest of the stream is dropped).
  virtual bool write(const std::string& piece) = 0;
  virtual void end_stream() = 0;
  // Whether the client has closed its side (checked without blocking).
  virtual bool client_gone() = 0;
};

// One WebSocket connection, after the handshake, used from one thread: a handler that generates while it
// listens checks readable() between steps and receive()s only then.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // The next text message (blocks); nullopt when the client closed or the connection failed.
  virtual std::optional<std::string> receive() = 0;
  // Whether bytes of a next message have arrived (receive() would not wait long).
  virtual bool readable() = 0;
  virtual bool send(const std::string& text) = 0;  // false once the connection is gone
  virtual void close() = 0;
};

struct HttpHandlers {
  std::function<void(const HttpRequest&, ResponseWriter&)> on_request;
  // Whether a WebSocket upgrade to this request is accepted; when it is not, on_request answers it.
  std::function<bool(const HttpRequest&)> accepts_websocket;
  std::function<void(const HttpRequest&, WebSocketConnection&)> on_websocket;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port (see HttpServer::port())
  size_t max_body_bytes = 32u << 20;  // larger bodies get 413
  size_t max_connections = 256;       // past this, new connections get 503 and are closed
  double header_timeout_s = 10;       // a request's headers and body must arrive within this
  double idle_timeout_s = 60;         // a kept-alive connection with no request is closed after this
  size_t max_websocket_message = 32u << 20;
};

class HttpServer {
 public:
  // Binds now (RuntimeError naming host and port when it cannot).
  HttpServer(const HttpServerOptions& options, HttpHandlers handlers);
  ~HttpServer();
  int port() const;  // the bound port
  // Serves until stop(); returns when every connection has finished.
  void run();
  // Stops accepting; requests in flight finish, idle connections close. Safe from any thread.
  void stop();
  size_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace symp::serve
