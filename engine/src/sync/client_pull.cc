// The pull (SYNC.md 2.4) and the resync by snapshot (SYNC.md 2.10).
#include "sync/client_round.h"

namespace quiver::sync {

void SyncClient::Round::Resync() {
  if (++resync_attempts > 3) return Finish(Status::IOError("sync: snapshot resync did not complete"));
  SyncRequest request = NewRequest("GET", UidPath("snapshot"));
  // The cursor held so far, so a server that lost data notices (regression detection) even now.
  if (auto epoch = ParseId128(MetaStr(core(), kEpoch)); epoch && core().FeedMeta(kCursor)) {
    request.query.emplace_back("cursor", CursorText(Cursor{*epoch, MetaU64(core(), kCursor)}));
  }
  Send(std::move(request), [self = shared_from_this()](const SyncResponse& resp, uint64_t rtt) {
    if (resp.status == 410) return self->NeedResync(resp);
    if (resp.status == 409) return self->DropGone();
    if (resp.status == 404) return self->Forgotten();
    if (resp.status != 200) return self->Finish(self->Unexpected(resp, "snapshot"));
    auto m = DecodeSnapshotManifest(resp.body);
    if (!m.ok()) return self->Finish(m.status());
    self->ObserveServer(m->clock, rtt);
    auto config = db::ConfigFromJson(m->config, "snapshot.config");
    if (!config.ok()) return self->Finish(config.status());
    if (local::ConfigHash(*config) != local::ConfigHash(self->core().config())) {
      return self->Finish(Status::FailedPrecondition("sync: collection " + self->name +
                                                     " has another configuration on the server"));
    }
    auto manifest = std::make_shared<SnapshotManifest>(std::move(*m));
    auto images = std::make_shared<std::vector<std::shared_ptr<const std::string>>>();
    self->FetchBlobs(manifest, images);
  });
}

void SyncClient::Round::FetchBlobs(std::shared_ptr<SnapshotManifest> m,
    std::shared_ptr<std::vector<std::shared_ptr<const std::string>>> images, int attempt) {
  if (images->size() == m->segments.size()) return Install(*m, *images);
  const SegmentRef& ref = m->segments[images->size()];
  Send(NewRequest("GET", "/v1/blobs/" + ref.sha256),
       [self = shared_from_this(), m, images, attempt](SyncResponse& resp, uint64_t) {
         if (resp.status == 404) return self->Resync();  // the snapshot moved on meanwhile: start again
         if (resp.status != 200) return self->Finish(self->Unexpected(resp, "blob"));
         const size_t index = images->size();
         const SegmentRef& ref = m->segments[index];
         const std::string sha = resp.body.size() != ref.bytes ? std::string()
                                 : !resp.sha256.empty()        ? std::move(resp.sha256)
                                                               : Sha256Hex(resp.body);
         if (resp.body.size() != ref.bytes || sha != ref.sha256) {
           if (attempt == 0) return self->FetchBlobs(m, images, 1);  // damaged in transit: once more
           return self->Finish(Status::Corruption(
               "sync: snapshot segment " + std::to_string(index + 1) + " of " + std::to_string(m->segments.size()) +
               " of collection " + self->name + " arrived as " + std::to_string(resp.body.size()) + " bytes" +
               (sha.empty() ? std::string() : " with SHA-256 " + sha) + ", the manifest says " +
               std::to_string(ref.bytes) + " bytes with SHA-256 " + ref.sha256 +
               " (fetched twice); nothing was installed"));
         }
         images->push_back(std::make_shared<const std::string>(std::move(resp.body)));
         self->FetchBlobs(m, images);
       });
}

void SyncClient::Round::Install(const SnapshotManifest& m,
    const std::vector<std::shared_ptr<const std::string>>& images) {
  const std::string reason = MetaStr(core(), kResync);
  const bool had_cursor = !MetaStr(core(), kEpoch).empty() && core().FeedMeta(kCursor).has_value();
  // What survives the flip: every register this replica wrote when the server may have lost some (no cursor
  // yet, a new epoch, a digest that disagreed: a server restored without the epoch step whose seqs were
  // reused before anyone noticed), else only those not yet acknowledged.
  const bool all_self = !had_cursor || reason == "epoch_changed" || reason == "digest_mismatch" ||
                        m.epoch != MetaStr(core(), kEpoch);
  const uint64_t push_cursor = all_self ? 0 : MetaU64(core(), kPushCursor);
  const uint64_t me = self();
  const std::vector<db::VectorSpace>& spaces = core().spaces();
  RegisterFilter filter;
  filter.include = [&](uint64_t seq, const Stamp& s) { return s.replica == me && (all_self || seq > push_cursor); };
  db::CollectionCore::CarryFn carry = [&](const db::PointState& st, const db::Segment& seg) {
    PointDelta d = DeltaFromState(st, seg, spaces, filter);
    if (d.empty()) return std::vector<db::Op>();
    auto ops = DeltaToOps(d);
    return ops.ok() ? std::move(*ops) : std::vector<db::Op>();
  };
  db::FeedWrite pending;
  pending.meta = {{kEpoch, json::value(m.epoch)},
                  {kCursor, json::value(m.snapshot_seq)},
                  {kSince, json::value(m.snapshot_seq)},
                  {kHorizon, json::value(Hex16(m.horizon_hlc))},
                  {kResync, std::nullopt},
                  {kPushCursor, json::value(push_cursor)},
                  {kPushScan, std::nullopt},
                  {kClock, json::value(Hex16(clock().last()))},
                  {kOffset, json::value(clock().offset_ms())}};
  // Every image's SHA-256 matched the manifest: its section checksums need no second pass.
  Status s = core().InstallFeedGeneration(images, carry, std::move(pending), SectionChecks::kSkipSectionCrcs);
  if (!s.ok()) return Finish(s.WithContext("sync: installing the snapshot of " + name));
  ++c->stats_.resyncs;
  c->clean_to_[name] = 0;
  core().SetFeedGcBounds(m.horizon_hlc, push_cursor);
  if (c->options_.on_applied) c->options_.on_applied(name, {}, true);
  Push();
}

void SyncClient::Round::Forgotten() {
  if (++resync_attempts > 3) return Finish(Status::NotFound("sync: the server does not know collection " + name));
  Status s = CommitMeta(core(), {{kIdentified, json::value(false)},
                                 {kResync, json::value("epoch_changed")},
                                 {kPushCursor, json::value(0)},
                                 {kPushScan, std::nullopt}});
  if (!s.ok()) return Finish(s);
  Identify();
}

void SyncClient::Round::NeedResync(const SyncResponse& resp) {
  auto e = DecodeErrorBody(resp.body);
  const std::string reason = e.ok() && !e->reason.empty() ? e->reason : "cursor_too_old";
  MetaChanges meta = {{kResync, json::value(reason)}};
  // A new epoch: nothing this replica pushed is known to be held; every register it wrote is in the outbox
  // again (and it no longer claims acknowledgements the server may have lost).
  if (reason == "epoch_changed") {
    meta.emplace_back(kPushCursor, json::value(0));
    meta.emplace_back(kPushScan, std::nullopt);
  }
  Status s = CommitMeta(core(), std::move(meta));
  if (!s.ok()) return Finish(s);
  Resync();
}

void SyncClient::Round::Pull(bool long_poll) {
  PullRequest q;
  const Id128 epoch = *ParseId128(MetaStr(core(), kEpoch));
  const uint64_t cursor = MetaU64(core(), kCursor);
  q.cursor = CursorText(Cursor{epoch, cursor});
  q.since = CursorText(Cursor{epoch, std::min(cursor, MetaU64(core(), kSince))});
  q.limit = c->options_.pull_limit;
  q.max_bytes = c->options_.pull_max_bytes;
  q.wait_ms = long_poll ? wait_ms : 0;
  SyncRequest r = NewRequest("GET", UidPath("pull"));
  r.query = EncodePullQuery(q);
  waiting = long_poll;
  Send(std::move(r), [self = shared_from_this(), long_poll](const SyncResponse& resp, uint64_t rtt) {
    self->waiting = false;
    if (resp.status == 410) return self->NeedResync(resp);
    if (resp.status == 409) return self->DropGone();
    if (resp.status == 404) return self->Forgotten();
    if (resp.status != 200) return self->Finish(self->Unexpected(resp, "pull"));
    auto m = DecodePullResponse(resp.body);
    if (!m.ok()) return self->Finish(m.status());
    self->OnPulled(*m, rtt, long_poll);
  });
}

void SyncClient::Round::OnPulled(const PullResponse& m, uint64_t rtt, bool long_poll) {
  ObserveServer(m.clock, rtt);
  if (m.epoch != MetaStr(core(), kEpoch)) return Finish(Status::IOError("sync: pull answered for another epoch"));
  db::FeedWrite w;
  for (const PointDelta& p : m.points) {
    auto ops = DeltaToOps(p);
    if (!ops.ok()) return Finish(ops.status().WithContext("sync: pulled point"));
    for (db::Op& op : *ops) w.ops.push_back(std::move(op));
  }
  const uint64_t seq = ParseCursor(m.cursor)->seq;
  // A catch-up ends when the server has nothing more: only then has this replica every register up to the
  // cursor, and the next one starts from there.
  w.meta = {{kCursor, json::value(seq)},
            {kSince, json::value(m.has_more ? std::min(seq, MetaU64(core(), kSince)) : seq)},
            {kHorizon, json::value(Hex16(m.horizon_hlc))},
            {kClock, json::value(Hex16(clock().last()))},
            {kOffset, json::value(clock().offset_ms())}};
  auto r = core().CommitFeedWrite(std::move(w));
  if (!r.ok()) return Finish(r.status().WithContext("sync: applying a pulled page"));
  c->stats_.pulled_points += m.points.size();
  core().SetFeedGcBounds(m.horizon_hlc, MetaU64(core(), kPushCursor));
  if (c->options_.on_applied && !m.points.empty()) {
    std::vector<PointId> ids;
    ids.reserve(m.points.size());
    for (const PointDelta& p : m.points) ids.push_back(p.id);
    c->options_.on_applied(name, ids, false);
  }
  if (m.has_more) return Pull();
  if (long_poll) return NextCollection();
  if (check_digest) return CheckDigest();
  AfterCatchUp();
}

}  // namespace quiver::sync
