// HttpServer: HTTP/1.1 with keep-alive on Boost.Beast, plain or TLS (Asio's OpenSSL stream) when a
// certificate and key are configured. `threads` threads (one per hardware thread by default) serve the
// connections and run each request where it was read, with no hand-off between threads; with
// `offload_workers` set, requests (but health checks) run on a separate pool instead and the serving threads
// only do I/O. Enforced here: the connection cap (503), the head size (431), the body size (413), the header,
// body and idle timeouts (408 or a close), and malformed HTTP (400). Each connection is a Session that lives
// as long as its socket.
//
// Thread safety: Listen, Start, Stop and Join from one thread; OnSignal before Start.
#ifndef QUIVER_SERVER_HTTP_SERVER_H_
#define QUIVER_SERVER_HTTP_SERVER_H_

#include <cstdint>
#include <memory>

#include "quiver/status.h"
#include "service.h"

namespace quiver::server {

class HttpServer {
 public:
  HttpServer(Service& service, const Config& config);
  ~HttpServer();

  // Loads the TLS certificate and binds the listening socket. InvalidArgument / IOError name the problem.
  Status Listen();
  uint16_t port() const;

  // Starts accepting on the I/O threads and returns.
  void Start();
  // On SIGTERM or SIGINT (delivered on an I/O thread): readyz fails, then after shutdown_delay_ms the
  // listener closes, idle connections close, and once in-flight requests finish (or drain_timeout_ms passes)
  // `on_drained` runs on an I/O thread. The caller then flushes and calls Stop.
  void OnSignal(std::function<void()> on_drained);
  // Stops the I/O threads and the workers.
  void Stop();
  // Waits for the I/O threads to finish (after Stop).
  void Join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quiver::server

#endif  // QUIVER_SERVER_HTTP_SERVER_H_
