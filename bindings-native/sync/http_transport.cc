#include "http_transport.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <optional>

namespace quiver::sync {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
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

}  // namespace

struct HttpTransport::Impl {
  HttpTransportOptions options;
  std::string host;
  std::string port;
  std::string prefix;  // before /sync, without a trailing slash
  net::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  uint64_t requests = 0;
  uint64_t connections = 0;

  Status Connect() {
    stream.reset();
    buffer.clear();
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return Status::IOError("sync: resolving " + host + ": " + ec.message());
    stream.emplace(io);
    stream->expires_after(std::chrono::milliseconds(options.timeout_ms));
    stream->connect(endpoints, ec);
    if (ec) {
      stream.reset();
      return Status::IOError("sync: connecting to " + host + ":" + port + ": " + ec.message());
    }
    ++connections;
    return Status::OK();
  }

  // One exchange on the current connection. `stale` is set when the connection failed before any answer
  // arrived (the request may be sent again on a new one).
  Result<SyncResponse> Exchange(const SyncRequest& r, bool* stale) {
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
    beast::error_code ec;
    stream->expires_after(std::chrono::milliseconds(options.timeout_ms));
    http::write(*stream, req, ec);
    if (ec) {
      *stale = true;
      return Status::IOError("sync: sending " + r.method + " " + target + ": " + ec.message());
    }
    stream->expires_after(std::chrono::milliseconds(options.timeout_ms + WaitMs(r)));
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 34);  // snapshot blobs are large; the server bounds everything else
    http::read(*stream, buffer, parser, ec);
    if (ec) {
      *stale =
          ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset;
      return Status::IOError("sync: reading the answer to " + r.method + " " + target + ": " + ec.message());
    }
    auto res = parser.release();
    SyncResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    if (!res.keep_alive()) stream.reset();
    return out;
  }
};

Result<std::unique_ptr<HttpTransport>> HttpTransport::Create(HttpTransportOptions options) {
  auto impl = std::make_unique<Impl>();
  std::string_view url = options.base_url;
  if (url.substr(0, 8) == "https://") {
    return Status::NotSupported("sync: https:// is not supported by the native transport yet: " +
                                options.base_url);
  }
  if (url.substr(0, 7) != "http://") {
    return Status::InvalidArgument("sync: the base URL must start with http://: '" + options.base_url + "'");
  }
  url.remove_prefix(7);
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? std::string_view() : url.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  const size_t colon = authority.rfind(':');
  if (authority.empty() || colon == 0) {
    return Status::InvalidArgument("sync: no host in the base URL '" + options.base_url + "'");
  }
  impl->host = std::string(authority.substr(0, colon));
  impl->port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  uint32_t port = 0;
  if (std::from_chars(impl->port.data(), impl->port.data() + impl->port.size(), port).ec != std::errc() ||
      port == 0 || port > 65535) {
    return Status::InvalidArgument("sync: bad port in the base URL '" + options.base_url + "'");
  }
  impl->prefix = std::string(prefix);
  impl->options = std::move(options);
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(impl)));
}

HttpTransport::HttpTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpTransport::~HttpTransport() = default;

uint64_t HttpTransport::requests() const { return impl_->requests; }
uint64_t HttpTransport::connections() const { return impl_->connections; }

void HttpTransport::Send(SyncRequest request, std::function<void(Result<SyncResponse>)> done) {
  Impl& t = *impl_;
  const bool reused = t.stream.has_value();
  if (!reused) {
    if (Status s = t.Connect(); !s.ok()) return done(s);
  }
  bool stale = false;
  Result<SyncResponse> r = t.Exchange(request, &stale);
  if (!r.ok()) {
    t.stream.reset();
    if (reused && stale) {
      // The kept-alive connection was gone (closed by the server, or a server restarted): once more, anew.
      if (Status s = t.Connect(); !s.ok()) return done(s);
      r = t.Exchange(request, &stale);
      if (!r.ok()) t.stream.reset();
    }
  }
  done(std::move(r));
}

}  // namespace quiver::sync
