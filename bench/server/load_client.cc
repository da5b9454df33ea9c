#include "load_client.h"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>

namespace quiver::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Shared {
  const LoadSpec& spec;
  Clock::time_point measure_from, measure_to;
  std::atomic<size_t> next_once{0};
  LoadResult result;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, Shared& shared, size_t index)
      : stream_(ioc), shared_(shared), next_(index * shared.spec.requests.size() / shared.spec.connections) {}

  void Start() {
    auto self = shared_from_this();
    stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), shared_.spec.port),
                          [self](beast::error_code ec) {
                            if (ec) {
                              ++self->shared_.result.failed;
                              return;
                            }
                            beast::error_code ignored;
                            self->stream_.socket().set_option(tcp::no_delay(true), ignored);
                            self->Send();
                          });
  }

 private:
  void Send() {
    const auto& spec = shared_.spec;
    if (spec.each_once) {
      current_ = shared_.next_once.fetch_add(1);
      if (current_ >= spec.requests.size()) return;
    } else {
      if (Clock::now() >= shared_.measure_to) return;
      current_ = next_;
      next_ = (next_ + 1) % spec.requests.size();
    }
    sent_ = Clock::now();
    auto self = shared_from_this();
    net::async_write(stream_, net::buffer(spec.requests[current_]), [self](beast::error_code ec, size_t) {
      if (ec) {
        ++self->shared_.result.failed;
        return;
      }
      self->parser_.emplace();
      self->parser_->body_limit(1u << 30);
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self](beast::error_code ec, size_t) { self->OnRead(ec); });
    });
  }

  void OnRead(beast::error_code ec) {
    const auto done = Clock::now();
    LoadResult& r = shared_.result;
    if (ec) {
      ++r.failed;
      return;
    }
    auto& res = parser_->get();
    if (res.result_int() != 200) {
      ++r.failed;
    } else {
      if (r.first_answers[current_].empty()) r.first_answers[current_] = std::move(res.body());
      if (shared_.spec.each_once || (sent_ >= shared_.measure_from && done <= shared_.measure_to)) {
        ++r.completed;
        r.latencies.push_back(std::chrono::duration<double>(done - sent_).count());
      }
    }
    Send();
  }

  beast::tcp_stream stream_;
  Shared& shared_;
  size_t next_;
  size_t current_ = 0;
  Clock::time_point sent_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

}  // namespace

double LoadResult::Percentile(double p) const {
  if (latencies.empty()) return 0;
  std::vector<double> sorted = latencies;
  // Nearest rank.
  const double rank = std::ceil(p / 100 * static_cast<double>(sorted.size()));
  const size_t k = std::min(sorted.size() - 1, static_cast<size_t>(std::max(1.0, rank)) - 1);
  std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end());
  return sorted[k];
}

LoadResult RunLoad(const LoadSpec& spec) {
  net::io_context ioc(1);
  Shared shared{spec};
  const auto start = Clock::now();
  auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  shared.measure_from = spec.each_once ? start : start + seconds(spec.warmup_seconds);
  shared.measure_to = spec.each_once ? Clock::time_point::max() : shared.measure_from + seconds(spec.seconds);
  shared.result.first_answers.resize(spec.requests.size());
  shared.result.latencies.reserve(1 << 20);
  for (size_t c = 0; c < spec.connections; ++c) std::make_shared<Connection>(ioc, shared, c)->Start();
  ioc.run();
  shared.result.seconds =
      spec.each_once ? std::chrono::duration<double>(Clock::now() - start).count() : spec.seconds;
  return std::move(shared.result);
}

std::string RawRequest(const std::string& method, const std::string& path, const std::string& body) {
  return method + " " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace quiver::bench
