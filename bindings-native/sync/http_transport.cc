#include "http_transport.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <fstream>
#include <optional>

namespace quiver::sync {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// RFC 3986 unreserved characters stay; everything else is %XX.
std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

uint64_t WaitMs(const SyncRequest& r) {
  for (const auto& [k, v] : r.query) {
    uint64_t ms = 0;
    if (k == "wait_ms" && std::from_chars(v.data(), v.data() + v.size(), ms).ec == std::errc()) return ms;
  }
  return 0;
}

// The connection closed under a request it had not answered: a kept-alive connection the server dropped (or a
// server that restarted). TLS adds stream_truncated (closed without close_notify, as a killed server does).
bool ClosedUnderUs(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == ssl::error::stream_truncated;
}

}  // namespace

// Every operation is asynchronous on a private io_context run until it completes, so that beast::tcp_stream's
// timeouts apply (they do not to blocking calls) and Interrupt can reach a request in flight by posting to the
// io_context, the one thread-safe way into it.
struct HttpTransport::Impl {
  HttpTransportOptions options;
  bool tls = false;
  bool host_is_ip = false;
  std::string host;
  std::string port;
  std::string prefix;  // before /sync, without a trailing slash
  net::io_context io;
  std::optional<ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::atomic<bool> interrupted{false};
  uint64_t requests = 0;
  uint64_t connections = 0;

  bool connected() const { return plain.has_value() || secure.has_value(); }
  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  void Drop() {
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  // Starts one asynchronous operation with `start(handler)` and runs the io_context until it has completed.
  template <typename Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result = net::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    if (interrupted.load()) result = net::error::operation_aborted;
    return result;
  }

  Status InterruptedStatus() const { return Status::IOError("sync: interrupted"); }

  Status Connect() {
    Drop();
    if (interrupted.load()) return InterruptedStatus();
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return Status::IOError("sync: resolving " + host + ": " + ec.message());
    if (tls) {
      secure.emplace(io, *ssl_ctx);
    } else {
      plain.emplace(io);
    }
    lowest().expires_after(std::chrono::milliseconds(options.timeout_ms));
    ec = Run([&](auto handler) { lowest().async_connect(endpoints, std::move(handler)); });
    if (ec) {
      Drop();
      if (interrupted.load()) return InterruptedStatus();
      return Status::IOError("sync: connecting to " + host + ":" + port + ": " + ec.message());
    }
    if (tls) {
      if (Status s = Handshake(); !s.ok()) {
        Drop();
        return s;
      }
    }
    ++connections;
    return Status::OK();
  }

  Status Handshake() {
    SSL* ssl = secure->native_handle();
    // SNI names a host, never an address (RFC 6066).
    if (!host_is_ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
      return Status::IOError("sync: TLS: cannot set the server name '" + host + "'");
    }
    if (options.verify_peer) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int set = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                 : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
      if (set != 1) return Status::IOError("sync: TLS: cannot check the name '" + host + "'");
    }
    lowest().expires_after(std::chrono::milliseconds(options.timeout_ms));
    beast::error_code ec =
        Run([&](auto handler) { secure->async_handshake(ssl::stream_base::client, std::move(handler)); });
    if (!ec) return Status::OK();
    if (interrupted.load()) return InterruptedStatus();
    const std::string where = "sync: TLS handshake with " + host + ":" + port + ": ";
    const long verify = SSL_get_verify_result(ssl);
    if (options.verify_peer && verify != X509_V_OK) {
      return Status::IOError(where + "certificate verify failed: " + X509_verify_cert_error_string(verify) +
                             (options.ca_file.empty() ? " (trusted: the system's certificates)"
                                                      : " (trusted: " + options.ca_file + ")"));
    }
    return Status::IOError(where + ec.message());
  }

  template <typename Stream>
  Result<SyncResponse> Exchange(Stream& stream, const SyncRequest& r, bool* stale) {
    *stale = false;
    std::string target = prefix + "/sync" + r.path;
    for (size_t i = 0; i < r.query.size(); ++i) {
      target += (i ? "&" : "?") + PercentEncode(r.query[i].first) + "=" + PercentEncode(r.query[i].second);
    }
    http::request<http::string_body> req(http::string_to_verb(r.method), target, 11);
    req.set(http::field::host, host + ":" + port);
    req.set(http::field::user_agent, options.user_agent);
    if (!r.token.empty()) req.set(http::field::authorization, "Bearer " + r.token);
    if (!r.replica.empty()) req.set("X-Replica", r.replica);
    if (!r.push_cursor.empty()) req.set("X-Push-Cursor", r.push_cursor);
    req.set("X-Protocol", r.protocol);
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT") {
      req.set(http::field::content_type, "application/json");
      req.body() = r.body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    ++requests;
    lowest().expires_after(std::chrono::milliseconds(options.timeout_ms));
    beast::error_code ec = Run([&](auto handler) { http::async_write(stream, req, std::move(handler)); });
    if (ec) {
      if (interrupted.load()) return InterruptedStatus();
      *stale = true;
      return Status::IOError("sync: sending " + r.method + " " + target + ": " + ec.message());
    }
    lowest().expires_after(std::chrono::milliseconds(options.timeout_ms + WaitMs(r)));
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 34);  // snapshot blobs are large; the server bounds everything else
    ec = Run([&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
    if (ec) {
      if (interrupted.load()) return InterruptedStatus();
      *stale = ClosedUnderUs(ec);
      return Status::IOError("sync: reading the answer to " + r.method + " " + target + ": " + ec.message());
    }
    auto res = parser.release();
    SyncResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    if (!res.keep_alive()) Drop();
    return out;
  }

  Result<SyncResponse> Exchange(const SyncRequest& r, bool* stale) {
    if (secure) return Exchange(*secure, r, stale);
    return Exchange(*plain, r, stale);
  }
};

Result<std::unique_ptr<HttpTransport>> HttpTransport::Create(HttpTransportOptions options) {
  auto impl = std::make_unique<Impl>();
  std::string_view url = options.base_url;
  if (url.substr(0, 8) == "https://") {
    impl->tls = true;
    url.remove_prefix(8);
  } else if (url.substr(0, 7) == "http://") {
    url.remove_prefix(7);
  } else {
    return Status::InvalidArgument("sync: the base URL must start with http:// or https://: '" +
                                   options.base_url + "'");
  }
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? std::string_view() : url.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  const size_t colon = authority.rfind(':');
  if (authority.empty() || colon == 0) {
    return Status::InvalidArgument("sync: no host in the base URL '" + options.base_url + "'");
  }
  impl->host = std::string(authority.substr(0, colon));
  impl->port = colon == std::string_view::npos ? (impl->tls ? "443" : "80")
                                               : std::string(authority.substr(colon + 1));
  uint32_t port = 0;
  if (std::from_chars(impl->port.data(), impl->port.data() + impl->port.size(), port).ec != std::errc() ||
      port == 0 || port > 65535) {
    return Status::InvalidArgument("sync: bad port in the base URL '" + options.base_url + "'");
  }
  impl->prefix = std::string(prefix);
  if (!impl->tls && !options.ca_file.empty()) {
    return Status::InvalidArgument("sync: a CA file is for https:// URLs, not '" + options.base_url + "'");
  }
  if (impl->tls) {
    boost::system::error_code ec;
    net::ip::make_address(impl->host, ec);
    impl->host_is_ip = !ec;
    impl->ssl_ctx.emplace(ssl::context::tls_client);
    impl->ssl_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (!options.ca_file.empty()) {
      if (!std::ifstream(options.ca_file).good()) {
        return Status::NotFound("sync: cannot read the CA file '" + options.ca_file + "'");
      }
      impl->ssl_ctx->load_verify_file(options.ca_file, ec);
      if (ec) {
        return Status::InvalidArgument("sync: the CA file '" + options.ca_file +
                                       "' holds no PEM certificate: " + ec.message());
      }
    } else {
      impl->ssl_ctx->set_default_verify_paths(ec);
      if (ec) return Status::IOError("sync: cannot load the system's trusted certificates: " + ec.message());
    }
    impl->ssl_ctx->set_verify_mode(options.verify_peer ? ssl::verify_peer : ssl::verify_none);
  }
  impl->options = std::move(options);
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(impl)));
}

HttpTransport::HttpTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpTransport::~HttpTransport() = default;

uint64_t HttpTransport::requests() const { return impl_->requests; }
uint64_t HttpTransport::connections() const { return impl_->connections; }

void HttpTransport::Interrupt() {
  Impl* t = impl_.get();
  t->interrupted.store(true);
  // Runs on the thread in Send (or at the start of the next Send's first operation); closing the socket there
  // completes whatever it waits for with operation_aborted.
  net::post(t->io, [t] {
    if (t->interrupted.load() && t->connected()) {
      beast::error_code ignored;
      t->lowest().socket().close(ignored);
    }
  });
}

void HttpTransport::Resume() { impl_->interrupted.store(false); }

void HttpTransport::Send(SyncRequest request, std::function<void(Result<SyncResponse>)> done) {
  Impl& t = *impl_;
  if (t.interrupted.load()) return done(t.InterruptedStatus());
  const bool reused = t.connected();
  if (!reused) {
    if (Status s = t.Connect(); !s.ok()) return done(s);
  }
  bool stale = false;
  Result<SyncResponse> r = t.Exchange(request, &stale);
  if (!r.ok()) {
    t.Drop();
    if (reused && stale) {
      // The kept-alive connection was gone (closed by the server, or a server restarted): once more, anew.
      if (Status s = t.Connect(); !s.ok()) return done(s);
      r = t.Exchange(request, &stale);
      if (!r.ok()) t.Drop();
    }
  }
  done(std::move(r));
}

}  // namespace quiver::sync
