#include "sync_endpoint.h"

#include <boost/json.hpp>
#include <charconv>
#include <chrono>

#include "db/hlc.h"
#include "router.h"
#include "sync/codec.h"
#include "sync/local_feed.h"
#include "sync/service.h"
#include "sync/transport.h"

namespace quiver::server {
namespace {

constexpr std::string_view kPrefix = "/sync";
constexpr auto kTick = std::chrono::milliseconds(50);

Need NeedOf(sync::SyncAccess access) {
  switch (access) {
    case sync::SyncAccess::kRead:
      return Need::kRead;
    case sync::SyncAccess::kWrite:
      return Need::kWrite;
    case sync::SyncAccess::kCreate:
      return Need::kCreate;
    case sync::SyncAccess::kManage:
      return Need::kManageCollection;
  }
  return Need::kManage;
}

std::optional<uint64_t> Number(std::string_view text) {
  uint64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// A single byte range of `size` bytes ("bytes=a-b", "bytes=a-", "bytes=-n"): [first, last], or nullopt to
// ignore the header (not a single bytes range) and answer whole. `unsatisfiable` is set for a range outside
// the blob.
std::optional<std::pair<uint64_t, uint64_t>> ParseRange(std::string_view header, uint64_t size,
                                                        bool* unsatisfiable) {
  *unsatisfiable = false;
  if (header.substr(0, 6) != "bytes=") return std::nullopt;
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return std::nullopt;
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  if (a.empty()) {
    auto n = Number(b);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) {
      *unsatisfiable = true;
      return std::nullopt;
    }
    return std::make_pair(size - std::min(*n, size), size - 1);
  }
  auto first = Number(a);
  if (!first) return std::nullopt;
  std::optional<uint64_t> last = b.empty() ? std::optional<uint64_t>(size ? size - 1 : 0) : Number(b);
  if (!last || (!b.empty() && *last < *first)) return std::nullopt;
  if (*first >= size) {
    *unsatisfiable = true;
    return std::nullopt;
  }
  return std::make_pair(*first, std::min(*last, size - 1));
}

}  // namespace

std::string PrincipalName(const Principal& p) {
  switch (p.kind) {
    case Principal::Kind::kOpen:
      return "open";
    case Principal::Kind::kApiKey:
      return "key";
    case Principal::Kind::kReadOnlyKey:
      return "key:read-only";
    case Principal::Kind::kTenantKey:
      return "tenant:" + p.tenant;
    case Principal::Kind::kJwt:
      return p.subject.empty() ? "jwt" : "jwt:" + p.subject;
  }
  return "unknown";
}

SyncEndpoint::SyncEndpoint(const Config& config, Database& db, AccessPolicy& access, Tenants& tenants)
    : config_(config), db_(db), access_(access), tenants_(tenants) {
  store_ = sync::NewLocalFeedStore(&db.core());
  sync::SyncServiceOptions options;
  options.retention_ms = config.sync_retention_days * 24ull * 3600 * 1000;
  service_ = std::make_unique<sync::SyncService>(store_.get(), std::move(options));
}

SyncEndpoint::~SyncEndpoint() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  service_->AnswerAllWaits();
}

void SyncEndpoint::Start() {
  timer_ = std::thread([this] { Tick(); });
}

void SyncEndpoint::Tick() {
  auto next_gc = std::chrono::steady_clock::now() + std::chrono::seconds(config_.sync_gc_interval_s);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, kTick, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    if (draining_) {
      service_->AnswerAllWaits();
    } else {
      service_->ExpireWaits();
    }
    if (std::chrono::steady_clock::now() >= next_gc) {
      // Failures (a read-only database after a storage error) show in the requests that follow.
      (void)service_->CollectGarbage();
      next_gc = std::chrono::steady_clock::now() + std::chrono::seconds(config_.sync_gc_interval_s);
    }
    lock.lock();
  }
}

void SyncEndpoint::SetDraining() {
  draining_ = true;
  service_->AnswerAllWaits();
}

size_t SyncEndpoint::parked() const { return service_->parked(); }

HttpReply SyncEndpoint::ToReply(const std::string& path, const std::string& range_header, int status,
                                std::string content_type, std::string body,
                                std::shared_ptr<const std::string> shared) const {
  HttpReply reply;
  reply.status = static_cast<unsigned>(status);
  reply.content_type = std::move(content_type);
  db::HybridClock& clock = store_->clock();
  const uint64_t now = clock.PhysicalMs();
  reply.headers.emplace_back("X-Server-Time-Ms", std::to_string(now));
  reply.headers.emplace_back("X-Server-HLC", sync::Hex16(std::max(clock.last(), db::MakeHlc(now, 0))));
  const bool blob = path.rfind("/sync/v1/blobs/", 0) == 0;
  auto whole = [&] {
    if (shared) {
      reply.shared_body = std::move(shared);
    } else {
      reply.body = std::move(body);
    }
    return std::move(reply);
  };
  if (!blob || status != 200) return whole();
  const std::string_view bytes = shared ? std::string_view(*shared) : std::string_view(body);
  const std::string sha = path.substr(std::string_view("/sync/v1/blobs/").size());
  reply.headers.emplace_back("ETag", "\"" + sha + "\"");
  reply.headers.emplace_back("X-Content-SHA256", sha);
  reply.headers.emplace_back("Accept-Ranges", "bytes");
  reply.headers.emplace_back("Cache-Control", "private, max-age=31536000, immutable");
  if (range_header.empty()) return whole();
  bool unsatisfiable = false;
  auto range = ParseRange(range_header, bytes.size(), &unsatisfiable);
  if (unsatisfiable) {
    reply.status = 416;
    reply.content_type = "application/json";
    reply.headers.emplace_back("Content-Range", "bytes */" + std::to_string(bytes.size()));
    sync::ErrorBody e;
    e.error = "range_not_satisfiable";
    e.message = "the blob has " + std::to_string(bytes.size()) + " bytes; the range is " + range_header;
    e.clock.server_time_ms = now;
    e.clock.server_hlc = std::max(clock.last(), db::MakeHlc(now, 0));
    reply.body = sync::Encode(e);
    return reply;
  }
  if (!range) return whole();
  reply.status = 206;
  reply.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                  std::to_string(range->second) + "/" +
                                                  std::to_string(bytes.size()));
  reply.body = std::string(bytes.substr(range->first, range->second - range->first + 1));
  return reply;
}

void SyncEndpoint::Handle(const HttpRequest& request, const Principal& principal, const std::string& tenant,
                          std::function<void(HttpReply)> done) {
  const size_t q = request.target.find('?');
  const std::string path = request.target.substr(0, q);
  sync::SyncRequest r;
  r.method = request.method;
  r.path = path.substr(kPrefix.size());
  r.share_blobs = true;  // ToReply writes shared_body out without copying it
  if (q != std::string::npos) {
    auto query = ParseQuery(std::string_view(request.target).substr(q + 1));
    if (!query.ok()) {
      sync::ErrorBody e;
      e.error = "invalid";
      e.message = std::string(query.status().message());
      return done(ToReply(path, request.range, 400, "application/json", sync::Encode(e)));
    }
    for (const auto& [k, v] : query->values) {
      if (k == "wait_ms" && draining_) continue;  // shutting down: answer at once
      r.query.emplace_back(k, v);
    }
  }
  r.replica = request.replica;
  r.push_cursor = request.push_cursor;
  if (!request.protocol.empty()) r.protocol = request.protocol;
  r.body = request.body;
  r.principal = PrincipalName(principal);
  AccessPolicy* access = &access_;
  r.authorize = [access, principal, tenant](std::string_view collection, sync::SyncAccess a) -> Status {
    QUIVER_RETURN_IF_ERROR(access->Check(principal, NeedOf(a), collection));
    if (a == sync::SyncAccess::kCreate && !tenant.empty()) {
      static const Route* create = MatchRoute("PUT", "/collections/_").value().route;
      QUIVER_RETURN_IF_ERROR(access->CheckQuota(tenant, *create, collection, ""));
    }
    return Status::OK();
  };
  const bool identify = r.method == "PUT" && r.path.rfind("/v1/collections/by-name/", 0) == 0;
  std::string name;
  if (identify) {
    auto decoded = PercentDecode(
        std::string_view(r.path).substr(std::string_view("/v1/collections/by-name/").size()), false);
    if (decoded.ok()) name = *decoded;
    r.path = "/v1/collections/by-name/" + name;
  }
  service_->HandleAsync(r, [this, path, range = request.range, tenant, identify, name,
                            done = std::move(done)](sync::SyncResponse resp) {
    if (identify && resp.status == 200 && !tenant.empty()) {
      // A collection the tenant's replica created belongs to the tenant, as one created through the REST API.
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(resp.body, ec);
      const boost::json::object* o = ec ? nullptr : v.if_object();
      const boost::json::value* created = o ? o->if_contains("created") : nullptr;
      if (created && created->is_bool() && created->get_bool() && !tenants_.OwnerOf(name)) {
        if (Status s = tenants_.SetOwner(name, tenant); !s.ok()) {
          sync::ErrorBody e;
          e.error = "internal";
          e.message = s.ToString();
          return done(ToReply(path, range, 500, "application/json", sync::Encode(e)));
        }
      }
    }
    done(ToReply(path, range, resp.status, std::move(resp.content_type), std::move(resp.body),
                 std::move(resp.shared_body)));
  });
}

}  // namespace quiver::server
