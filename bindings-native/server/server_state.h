// What every connection shares with the server (ServerState), and the two ways a connection starts: plain TCP
// or TLS. Each Session instantiation is compiled in its own file (session_plain.cc, session_tls.cc), so the two
// heaviest pieces of quiverd build in parallel and http_server.cc needs no Beast.
#ifndef QUIVER_SERVER_SERVER_STATE_H_
#define QUIVER_SERVER_SERVER_STATE_H_

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "service.h"

namespace quiver::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

class SessionBase;

// What every session shares with the server.
struct ServerState {
  Service& service;
  const Config& config;
  net::thread_pool* workers;  // null: requests run on the I/O thread that reads them
  std::atomic<int64_t> active_requests{0};
  std::atomic<bool> closing{false};  // draining: no new requests, close idle connections

  std::mutex sessions_mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;  // guarded by sessions_mu

  ServerState(Service& s, const Config& c, net::thread_pool* w) : service(s), config(c), workers(w) {}
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection if it is waiting for a request; otherwise it closes after its current reply.
  virtual void Close() = 0;
};

// Start serving an accepted connection. `refuse`: the server is at its connection cap; the first request is
// answered 503 and the connection closed. The session keeps itself alive as long as its socket.
void StartPlainSession(tcp::socket socket, ServerState& state, std::string remote, bool refuse);
void StartTlsSession(tcp::socket socket, net::ssl::context& tls, ServerState& state, std::string remote,
                     bool refuse);

}  // namespace quiver::server

#endif  // QUIVER_SERVER_SERVER_STATE_H_
