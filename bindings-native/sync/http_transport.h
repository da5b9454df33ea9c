// HttpTransport: the sync client's Transport (engine/src/sync/transport.h) over HTTP/1.1 with Boost.Beast,
// for native apps syncing with quiverd. Each Send is one blocking request on a kept-alive connection: `done`
// runs before Send returns, on the calling thread (the thread driving the SyncClient). A request that fails
// on a reused connection (the server closed it, or restarted) is sent once more on a new one; every sync
// request is idempotent. The server answers a long-poll pull within its wait, so the read timeout is the
// request's wait_ms plus `timeout_ms`.
//
// Plain http:// only in this version (https:// is NotSupported: put TLS in front, or use the JS face's
// fetch).
//
// Thread safety: one thread at a time (the SyncClient's); distinct transports are independent.
#ifndef QUIVER_NATIVE_SYNC_HTTP_TRANSPORT_H_
#define QUIVER_NATIVE_SYNC_HTTP_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "quiver/status.h"
#include "sync/transport.h"

namespace quiver::sync {

struct HttpTransportOptions {
  // The server: "http://host:port", optionally with a path prefix before /sync ("http://host:port/api").
  std::string base_url;
  // Connecting, writing a request and reading an answer (beyond a long-poll's wait) each get this long.
  uint64_t timeout_ms = 30'000;
  // Sent as the User-Agent header.
  std::string user_agent = "quiver-sync";
};

class HttpTransport final : public Transport {
 public:
  // InvalidArgument for a base URL that is not http://host:port[/prefix]; NotSupported for https://.
  static Result<std::unique_ptr<HttpTransport>> Create(HttpTransportOptions options);
  ~HttpTransport() override;

  void Send(SyncRequest request, std::function<void(Result<SyncResponse>)> done) override;

  // Requests sent and connections opened, for tests and metrics.
  uint64_t requests() const;
  uint64_t connections() const;

 private:
  struct Impl;
  explicit HttpTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quiver::sync

#endif  // QUIVER_NATIVE_SYNC_HTTP_TRANSPORT_H_
