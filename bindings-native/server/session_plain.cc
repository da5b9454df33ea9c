// The plain-TCP session (session.h), compiled apart from the TLS one so the two build in parallel.
#include "session.h"

namespace quiver::server {

void StartPlainSession(tcp::socket socket, ServerState& state, std::string remote, bool refuse) {
  std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), state, std::move(remote),
                                               refuse)
      ->Start();
}

}  // namespace quiver::server
