// LoopbackTransport: a Transport that hands requests straight to a SyncService in the same process (tests,
// examples, an embedded server). Long-polls park in the service and complete on its next commit or ExpireWaits.
//
// Thread safety: as the service.
#ifndef QUIVER_SYNC_LOOPBACK_TRANSPORT_H_
#define QUIVER_SYNC_LOOPBACK_TRANSPORT_H_

#include "sync/service.h"
#include "sync/transport.h"

namespace quiver::sync {

class LoopbackTransport final : public Transport {
 public:
  explicit LoopbackTransport(SyncService* service) : service_(service) {}
  void Send(SyncRequest request, std::function<void(Result<SyncResponse>)> done) override {
    service_->HandleAsync(request, [done = std::move(done)](SyncResponse r) { done(std::move(r)); });
  }

 private:
  SyncService* service_;
};

}  // namespace quiver::sync

#endif  // QUIVER_SYNC_LOOPBACK_TRANSPORT_H_
