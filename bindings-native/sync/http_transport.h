// HttpTransport: the sync client's Transport (engine/src/sync/transport.h) over HTTP/1.1 with Boost.Beast,
// for native apps syncing with quiverd. Each Send is one blocking request on a kept-alive connection: `done`
// runs before Send returns, on the calling thread (the thread driving the SyncClient). A request that fails
// on a reused connection (the server closed it, or restarted) is sent once more on a new one; every sync
// request is idempotent. The server answers a long-poll pull within its wait, so the read timeout is the
// request's wait_ms plus `timeout_ms`.
//
// https:// goes through OpenSSL: SNI, the peer's certificate checked against the system's trust store (or a CA
// file) and its name against the URL's host (DNS name or IP address). A failed check fails the request with an
// IOError that says why ("certificate verify failed: self-signed certificate", "... Hostname mismatch").
//
// Thread safety: one thread at a time (the SyncClient's), except Interrupt, which any thread may call; distinct
// transports are independent.
#ifndef QUIVER_NATIVE_SYNC_HTTP_TRANSPORT_H_
#define QUIVER_NATIVE_SYNC_HTTP_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "quiver/status.h"
#include "sync/transport.h"

namespace quiver::sync {

struct HttpTransportOptions {
  // The server: "http://host:port" or "https://host:port", optionally with a path prefix before /sync
  // ("http://host:port/api"). The port defaults to 80 / 443.
  std::string base_url;
  // https: a PEM file of trusted certificates to use instead of the system's trust store (a private CA, or a
  // server's self-signed certificate). Empty: the system's store.
  std::string ca_file;
  // https: check the server's certificate and name (default). false accepts any certificate: for tests against
  // a throwaway certificate only, never in production.
  bool verify_peer = true;
  // Connecting, writing a request and reading an answer (beyond a long-poll's wait) each get this long.
  uint64_t timeout_ms = 30'000;
  // Sent as the User-Agent header.
  std::string user_agent = "quiver-sync";
};

class HttpTransport final : public Transport {
 public:
  // InvalidArgument for a base URL that is not http(s)://host[:port][/prefix]; NotFound / InvalidArgument for a
  // CA file that cannot be read or holds no certificate.
  static Result<std::unique_ptr<HttpTransport>> Create(HttpTransportOptions options);
  ~HttpTransport() override;

  void Send(SyncRequest request, std::function<void(Result<SyncResponse>)> done) override;

  // Ends the request in flight (a long-poll, a slow push) at once: it fails with an IOError ("interrupted"), and
  // so does every later Send until Resume. Any thread may call it (a signal-handling thread, a UI thread); the
  // sync client's committed steps are unaffected.
  void Interrupt();
  void Resume();

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
