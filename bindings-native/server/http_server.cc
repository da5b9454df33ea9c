#include "http_server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "server_state.h"

namespace quiver::server {

struct HttpServer::Impl {
  Impl(Service& service, const Config& config)
      : config(config),
        serving_threads(config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency())),
        workers(std::max<size_t>(1, config.offload_workers)),
        state(service, config, config.offload_workers ? &workers : nullptr),
        ioc(static_cast<int>(serving_threads)),
        acceptor(net::make_strand(ioc)),
        signals(ioc, SIGTERM, SIGINT),
        timer(ioc) {}

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        return Accept();  // a failed accept (EMFILE, a reset) must not stop the listener
      }
      Metrics& m = state.service.metrics();
      const bool refuse = m.connections_active.fetch_add(1) >= static_cast<int64_t>(config.max_connections);
      m.connections_total.fetch_add(1);
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      const auto endpoint = socket.remote_endpoint(ignored);
      std::string remote = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
      if (tls) {
        StartTlsSession(std::move(socket), *tls, state, std::move(remote), refuse);
      } else {
        StartPlainSession(std::move(socket), state, std::move(remote), refuse);
      }
      Accept();
    });
  }

  void BeginDrain(std::function<void()> on_drained) {
    state.service.SetDraining();
    timer.expires_after(std::chrono::milliseconds(config.shutdown_delay_ms));
    timer.async_wait([this, on_drained](boost::system::error_code) {
      state.closing = true;
      boost::system::error_code ec;
      acceptor.close(ec);
      std::vector<std::shared_ptr<SessionBase>> open;
      {
        std::lock_guard<std::mutex> lock(state.sessions_mu);
        for (auto& [ptr, weak] : state.sessions) {
          if (auto s = weak.lock()) open.push_back(std::move(s));
        }
      }
      for (auto& s : open) s->Close();
      drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.drain_timeout_ms);
      PollDrained(on_drained);
    });
  }

  void PollDrained(std::function<void()> on_drained) {
    if (state.active_requests.load() <= 0 || std::chrono::steady_clock::now() >= drain_deadline) {
      return on_drained();
    }
    timer.expires_after(std::chrono::milliseconds(10));
    timer.async_wait([this, on_drained](boost::system::error_code) { PollDrained(on_drained); });
  }

  // Sessions still queued in `ioc` are destroyed with it and unregister from `state`: state outlives ioc.
  const Config& config;
  size_t serving_threads;
  net::thread_pool workers;  // used only with offload_workers
  ServerState state;
  std::optional<net::ssl::context> tls;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer timer;
  std::chrono::steady_clock::time_point drain_deadline;
  std::vector<std::thread> threads;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
};

HttpServer::HttpServer(Service& service, const Config& config)
    : impl_(std::make_unique<Impl>(service, config)) {}

HttpServer::~HttpServer() {
  Stop();
  Join();
}

Status HttpServer::Listen() {
  const Config& c = impl_->config;
  if (c.tls()) {
    auto& ctx = impl_->tls.emplace(net::ssl::context::tls_server);
    ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                    net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                    net::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    ctx.use_certificate_chain_file(c.tls_cert, ec);
    if (ec) return Status::InvalidArgument("tls_cert " + c.tls_cert + ": " + ec.message());
    ctx.use_private_key_file(c.tls_key, net::ssl::context::pem, ec);
    if (ec) return Status::InvalidArgument("tls_key " + c.tls_key + ": " + ec.message());
  }
  boost::system::error_code ec;
  const std::string host = c.host == "localhost" ? "127.0.0.1" : c.host;
  auto address = net::ip::make_address(host.front() == '[' ? host.substr(1, host.size() - 2) : host, ec);
  if (ec) return Status::InvalidArgument("host '" + c.host + "' is not an IP address: " + ec.message());
  tcp::endpoint endpoint(address, c.port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::IOError("cannot listen on " + c.host + ":" + std::to_string(c.port) + ": " + ec.message());
  return Status::OK();
}

uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::Start() {
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->Accept();
  for (size_t i = 0; i < impl_->serving_threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
}

void HttpServer::OnSignal(std::function<void()> on_drained) {
  impl_->signals.async_wait([this, on_drained](boost::system::error_code ec, int) {
    if (ec) return;
    impl_->BeginDrain(on_drained);
  });
}

void HttpServer::Stop() {
  impl_->work.reset();
  impl_->ioc.stop();
  impl_->workers.stop();
}

void HttpServer::Join() {
  for (auto& t : impl_->threads) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  }
  impl_->threads.clear();
  impl_->workers.join();
}

}  // namespace quiver::server
