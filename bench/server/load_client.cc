#include "load_client.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <string_view>

namespace quiver::bench {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Shared {
  const LoadSpec& spec;
  Clock::time_point measure_from, measure_to;
  std::atomic<size_t> next_once{0};
  uint64_t answered = 0;  // whole run, for the CPU cost per request
  LoadResult result;
};

double ThreadCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, Shared& shared, size_t index)
      : socket_(ioc),
        shared_(shared),
        next_(index * shared.spec.requests.size() / shared.spec.connections),
        buffer_(16384) {}

  void Start() {
    auto self = shared_from_this();
    socket_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), shared_.spec.port),
                          [self](boost::system::error_code ec) {
                            if (ec) return self->Fail();
                            boost::system::error_code ignored;
                            self->socket_.set_option(tcp::no_delay(true), ignored);
                            self->Send();
                          });
  }

 private:
  void Fail() { ++shared_.result.failed; }

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
    net::async_write(socket_, net::buffer(spec.requests[current_]),
                     [self](boost::system::error_code ec, size_t) {
                       if (ec) return self->Fail();
                       self->Read();
                     });
  }

  void Read() {
    if (have_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    auto self = shared_from_this();
    socket_.async_read_some(net::buffer(buffer_.data() + have_, buffer_.size() - have_),
                            [self](boost::system::error_code ec, size_t n) {
                              if (ec) return self->Fail();
                              self->have_ += n;
                              self->OnData();
                            });
  }

  // Frames the answer in buffer_: the head up to its blank line, then Content-Length bytes of body.
  void OnData() {
    if (body_at_ == 0) {
      const std::string_view text(buffer_.data(), have_);
      const size_t blank = text.find("\r\n\r\n", scanned_);
      if (blank == std::string_view::npos) {
        scanned_ = have_ >= 3 ? have_ - 3 : 0;
        return Read();
      }
      body_at_ = blank + 4;
      if (!ReadHead(text.substr(0, blank))) return Fail();
    }
    const size_t end = body_at_ + body_length_;
    if (have_ < end) {
      if (buffer_.size() < end) buffer_.resize(end);
      return Read();
    }
    OnAnswer(std::string_view(buffer_.data() + body_at_, body_length_));
    std::memmove(buffer_.data(), buffer_.data() + end, have_ - end);  // nothing, unless the server ran ahead
    have_ -= end;
    body_at_ = 0;
    scanned_ = 0;
    Send();
  }

  // "HTTP/1.1 200 OK" and the Content-Length header; false when either is missing.
  bool ReadHead(std::string_view head) {
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return false;
    status_ = static_cast<unsigned>(std::atoi(std::string(head.substr(9, 3)).c_str()));
    for (size_t at = head.find("\r\n"); at != std::string_view::npos;) {
      const size_t start = at + 2;
      at = head.find("\r\n", start);
      const std::string_view line = head.substr(start, at == std::string_view::npos ? at : at - start);
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos || !IEquals(line.substr(0, colon), "content-length")) continue;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      body_length_ = 0;
      for (char c : value) {
        if (c < '0' || c > '9') break;
        body_length_ = body_length_ * 10 + static_cast<size_t>(c - '0');
      }
      return true;
    }
    return false;
  }

  void OnAnswer(std::string_view body) {
    const auto done = Clock::now();
    LoadResult& r = shared_.result;
    ++shared_.answered;
    if (status_ != 200) return Fail();
    if (r.first_answers[current_].empty()) r.first_answers[current_] = std::string(body);
    if (shared_.spec.each_once || (sent_ >= shared_.measure_from && done <= shared_.measure_to)) {
      ++r.completed;
      r.latencies.push_back(std::chrono::duration<double>(done - sent_).count());
    }
  }

  tcp::socket socket_;
  Shared& shared_;
  size_t next_;
  size_t current_ = 0;
  Clock::time_point sent_;
  std::vector<char> buffer_;
  size_t have_ = 0;         // bytes in buffer_
  size_t scanned_ = 0;      // where the search for the head's end resumes
  size_t body_at_ = 0;      // 0 until the head is read
  size_t body_length_ = 0;  // from Content-Length
  unsigned status_ = 0;
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
  const double cpu0 = ThreadCpuSeconds();
  const auto start = Clock::now();
  auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  shared.measure_from = spec.each_once ? start : start + seconds(spec.warmup_seconds);
  shared.measure_to = spec.each_once ? Clock::time_point::max() : shared.measure_from + seconds(spec.seconds);
  shared.result.first_answers.resize(spec.requests.size());
  shared.result.latencies.reserve(1 << 20);
  for (size_t c = 0; c < spec.connections; ++c) std::make_shared<Connection>(ioc, shared, c)->Start();
  if (spec.spin) {
    while (!ioc.stopped()) ioc.poll();
  } else {
    ioc.run();
  }
  shared.result.seconds =
      spec.each_once ? std::chrono::duration<double>(Clock::now() - start).count() : spec.seconds;
  shared.result.cpu_seconds = ThreadCpuSeconds() - cpu0;
  shared.result.answered = shared.answered;
  return std::move(shared.result);
}

std::string RawRequest(const std::string& method, const std::string& path, const std::string& body) {
  return method + " " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace quiver::bench
