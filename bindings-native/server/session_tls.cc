// The TLS session (session.h) over Asio's OpenSSL stream, compiled apart from the plain one.
#include "session.h"

namespace quiver::server {

void StartTlsSession(tcp::socket socket, net::ssl::context& tls, ServerState& state, std::string remote,
                     bool refuse) {
  using Stream = beast::ssl_stream<beast::tcp_stream>;
  std::make_shared<Session<Stream>>(Stream(std::move(socket), tls), state, std::move(remote), refuse)->Start();
}

}  // namespace quiver::server
