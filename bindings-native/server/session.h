// Session: one client connection, plain TCP or TLS, serving requests one after another (keep-alive, pipelined
// requests in order). Instantiated once per stream type, in session_plain.cc and session_tls.cc.
//
// Thread safety: every handler of a session runs on its own strand; the worker that runs a request posts the
// reply back to that strand. Close() may be called from any thread.
#ifndef QUIVER_SERVER_SESSION_H_
#define QUIVER_SERVER_SESSION_H_

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "server_state.h"
#include "service.h"

namespace quiver::server {

namespace beast = boost::beast;
namespace http = beast::http;

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  // `refuse`: the server is at its connection cap; the first request is answered 503 and the connection
  // closed.
  Session(Stream stream, ServerState& state, std::string remote, bool refuse)
      : stream_(std::move(stream)), state_(state), remote_(std::move(remote)), refuse_(refuse) {}

  ~Session() override {
    std::lock_guard<std::mutex> lock(state_.sessions_mu);
    state_.sessions.erase(this);
    state_.service.metrics().connections_active.fetch_sub(1);
  }

  void Start() {
    {
      std::lock_guard<std::mutex> lock(state_.sessions_mu);
      state_.sessions[this] = this->shared_from_this();
    }
    auto self = this->shared_from_this();
    net::dispatch(stream_.get_executor(), [self] {
      if constexpr (kTls) {
        self->Lowest().expires_after(Ms(self->state_.config.header_timeout_ms));
        self->stream_.async_handshake(net::ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) return self->Shutdown();
          self->WaitForRequest();
        });
      } else {
        self->WaitForRequest();
      }
    });
  }

  void Close() override {
    auto self = this->shared_from_this();
    net::post(stream_.get_executor(), [self] {
      self->close_after_reply_ = true;
      if (self->phase_ == Phase::kIdle) {
        beast::error_code ec;
        self->Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        self->Lowest().cancel();
      }
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  enum class Phase { kIdle, kReading, kBusy, kClosed };

  static std::chrono::milliseconds Ms(uint64_t ms) { return std::chrono::milliseconds(ms); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void WaitForRequest() {
    if (state_.closing || close_after_reply_) return Shutdown();
    phase_ = Phase::kIdle;
    if (buffer_.size() > 0) return ReadHeader();
    Lowest().expires_after(Ms(state_.config.idle_timeout_ms));
    auto self = this->shared_from_this();
    // One read takes a whole typical request (a search with a 384-d vector is ~4 KB), so parsing the head and
    // the body usually needs no further system call.
    stream_.async_read_some(buffer_.prepare(65536), [self](beast::error_code ec, size_t n) {
      self->buffer_.commit(n);
      if (ec || n == 0) return self->Shutdown();
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    start_ = Service::Clock::now();
    request_ = HttpRequest{};
    request_.remote = remote_;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(state_.config.max_header_kb * 1024));
    // The route decides the body limit (uploads have their own); until the head is read, allow the larger.
    parser_->body_limit(std::max(BodyLimit(false), BodyLimit(true)));
    Lowest().expires_after(Ms(state_.config.header_timeout_ms));
    auto self = this->shared_from_this();
    http::async_read_header(stream_, buffer_, *parser_,
                            [self](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  uint64_t BodyLimit(bool upload) const {
    const double mb = upload ? state_.config.max_upload_mb : state_.config.max_body_mb;
    return static_cast<uint64_t>(mb * 1024 * 1024);
  }

  void OnHeader(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof) return Shutdown();
    if (ec == beast::error::timeout)
      return Refuse(408, "Request timeout: the request's headers did not arrive in time");
    if (ec == http::error::header_limit) {
      return Refuse(431, "Request header fields too large (the limit is " +
                             std::to_string(state_.config.max_header_kb) + " KB)");
    }
    if (ec == http::error::body_limit) {
      return Refuse(413, "Payload too large: the body exceeds the limit of " +
                             std::to_string(std::max(BodyLimit(false), BodyLimit(true))) + " bytes");
    }
    if (ec) return Refuse(400, "Malformed HTTP request: " + ec.message());
    const auto& req = parser_->get();
    request_.method = std::string(req.method_string());
    request_.target = std::string(req.target());
    const bool upload = request_.method == "POST" &&
                        request_.target.substr(0, request_.target.find('?')).ends_with("/snapshots/upload");
    const uint64_t limit = BodyLimit(upload);
    if (refuse_) {
      state_.service.metrics().connections_refused.fetch_add(1);
      return Refuse(503, "Service unavailable: too many connections (max_connections is " +
                             std::to_string(state_.config.max_connections) + ")");
    }
    if (auto length = parser_->content_length(); length && *length > limit) {
      return Refuse(413, "Payload too large: the body has " + std::to_string(*length) +
                             " bytes; the limit is " + std::to_string(limit));
    }
    parser_->body_limit(limit);
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
      auto self = this->shared_from_this();
      Lowest().expires_after(Ms(state_.config.body_timeout_ms));
      return http::async_write(stream_, *cont, [self, cont](beast::error_code ec, size_t) {
        if (ec) return self->Shutdown();
        self->ReadBody();
      });
    }
    ReadBody();
  }

  void ReadBody() {
    Lowest().expires_after(Ms(state_.config.body_timeout_ms));
    auto self = this->shared_from_this();
    http::async_read(stream_, buffer_, *parser_, [self](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Refuse(413, "Payload too large: the body exceeds " +
                             std::to_string(parser_->get().body().size()) + " bytes");
    }
    if (ec == beast::error::timeout) return Refuse(408, "Request timeout: the body did not arrive in time");
    if (ec) return Shutdown();
    auto req = parser_->release();
    parser_.reset();
    keep_alive_ = req.keep_alive();
    request_.api_key = std::string(req["api-key"]);
    request_.authorization = std::string(req[http::field::authorization]);
    request_.origin = std::string(req[http::field::origin]);
    request_.content_type = std::string(req[http::field::content_type]);
    request_.access_control_request_headers = std::string(req[http::field::access_control_request_headers]);
    request_.replica = std::string(req["x-replica"]);
    request_.push_cursor = std::string(req["x-push-cursor"]);
    request_.protocol = std::string(req["x-protocol"]);
    request_.range = std::string(req[http::field::range]);
    request_.body = std::move(req.body());
    version_ = req.version();
    phase_ = Phase::kBusy;
    Lowest().expires_never();
    state_.active_requests.fetch_add(1);
    auto self = this->shared_from_this();
    if (Service::IsDeferrable(request_.target)) {
      // May be answered later, from another thread (a long-poll ended by a commit or its timer).
      auto respond = [self](HttpReply reply) {
        net::post(self->stream_.get_executor(),
                  [self, reply = std::move(reply)]() mutable { self->Write(std::move(reply)); });
      };
      if (state_.workers == nullptr) return state_.service.HandleAsync(request_, std::move(respond));
      return net::post(*state_.workers, [self, respond = std::move(respond)]() mutable {
        self->state_.service.HandleAsync(self->request_, std::move(respond));
      });
    }
    if (state_.workers == nullptr || Service::IsLight(request_.method, request_.target)) {
      return Write(state_.service.Handle(request_));
    }
    net::post(*state_.workers, [self] {
      HttpReply reply = self->state_.service.Handle(self->request_);
      net::post(self->stream_.get_executor(),
                [self, reply = std::move(reply)]() mutable { self->Write(std::move(reply)); });
    });
  }

  // Answers an error found while reading, then closes (the rest of the request is not read).
  void Refuse(unsigned status, std::string message) {
    phase_ = Phase::kBusy;
    keep_alive_ = false;
    refused_ = true;
    state_.active_requests.fetch_add(1);
    Write(state_.service.Reject(request_, status, std::move(message), start_));
  }

  void Write(HttpReply reply) {
    const bool keep = keep_alive_ && !close_after_reply_ && !state_.closing;
    auto self = this->shared_from_this();
    auto headers = [&](auto& res) {
      res.set(http::field::server, "quiverd");
      if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
      for (const auto& [name, value] : reply.headers) res.set(name, value);
      res.keep_alive(keep);
    };
    Lowest().expires_after(Ms(state_.config.body_timeout_ms));
    if (!reply.file.empty()) {
      beast::error_code ec;
      http::file_body::value_type file;
      file.open(reply.file.c_str(), beast::file_mode::scan, ec);
      if (!ec) {
        auto res = std::make_shared<http::response<http::file_body>>(http::status::ok, version_);
        res->body() = std::move(file);
        headers(*res);
        res->prepare_payload();
        return http::async_write(
            stream_, *res, [self, res, keep](beast::error_code ec, size_t) { self->OnWrite(ec, keep); });
      }
      reply.status = 404;
      reply.content_type = "application/json";
      reply.body = ErrorBody("Not found: the snapshot file cannot be opened: " + ec.message(), 0);
    }
    auto out = std::make_shared<Outgoing>();
    out->head = Head(reply, keep);
    out->body = std::move(reply.body);
    out->shared_body = std::move(reply.shared_body);
    const std::array<net::const_buffer, 2> buffers = {
        net::buffer(out->head), out->shared_body ? net::buffer(*out->shared_body) : net::buffer(out->body)};
    net::async_write(stream_, buffers,
                     [self, out, keep](beast::error_code ec, size_t) { self->OnWrite(ec, keep); });
  }

  // A reply's head and body, alive until written.
  struct Outgoing {
    std::string head;
    std::string body;
    std::shared_ptr<const std::string> shared_body;  // instead of body when set
  };

  // The head Beast's serializer would write for `reply` as a string body (status line, Server, Content-Type,
  // the reply's headers, Content-Length unless the status forbids a body, Connection as keep_alive() sets
  // it), formatted straight into one string: Beast's fields and serializer cost several allocations and
  // buffer-sequence walks per reply, which on loopback is a measurable share of a small search.
  std::string Head(const HttpReply& reply, bool keep) const {
    std::string h;
    h.reserve(192);
    h += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    h += std::to_string(reply.status);
    h += ' ';
    h += http::obsolete_reason(static_cast<http::status>(reply.status));
    h += "\r\nServer: quiverd\r\n";
    auto field = [&h](std::string_view name, std::string_view value) {
      h += name;
      h += ": ";
      h += value;
      h += "\r\n";
    };
    if (!reply.content_type.empty()) field("Content-Type", reply.content_type);
    for (const auto& [name, value] : reply.headers) field(name, value);
    const bool no_body = reply.status / 100 == 1 || reply.status == 204 || reply.status == 304;
    if (!no_body) {
      field("Content-Length", std::to_string(reply.shared_body ? reply.shared_body->size() : reply.body.size()));
    }
    if (version_ >= 11 && !keep) field("Connection", "close");
    if (version_ < 11 && keep) field("Connection", "keep-alive");
    h += "\r\n";
    return h;
  }

  void OnWrite(beast::error_code ec, bool keep) {
    state_.active_requests.fetch_sub(1);
    if (ec) return Shutdown();
    if (!keep) return refused_ ? Linger() : Shutdown();
    WaitForRequest();
  }

  // After refusing a request whose body was not read: stop sending, then read and drop what the client still
  // sends (for a second at most), so it sees the error reply instead of a reset connection.
  void Linger() {
    if constexpr (kTls) {
      return Shutdown();
    } else {
      beast::error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      Lowest().expires_after(std::chrono::seconds(1));
      DrainInput();
    }
  }

  void DrainInput() {
    auto self = this->shared_from_this();
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(65536), [self](beast::error_code ec, size_t n) {
      if (ec || n == 0) return self->Shutdown();
      self->DrainInput();
    });
  }

  void Shutdown() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    beast::error_code ec;
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(2));
      auto self = this->shared_from_this();
      stream_.async_shutdown([self](beast::error_code) {
        beast::error_code ignored;
        self->Lowest().socket().close(ignored);
      });
    } else {
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      Lowest().socket().close(ec);
    }
  }

  Stream stream_;
  ServerState& state_;
  std::string remote_;
  bool refuse_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool close_after_reply_ = false;
  bool refused_ = false;
  Phase phase_ = Phase::kIdle;
  Service::Clock::time_point start_;
};

}  // namespace quiver::server

#endif  // QUIVER_SERVER_SESSION_H_
