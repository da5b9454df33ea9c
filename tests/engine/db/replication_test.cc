// Property tests of the versioned apply path: replicas that apply the same ops in different orders, with
// duplicates, end in identical states (a digest of every point's registers, payload and vectors).
#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "base/random.h"
#include "engine/db/db_test_util.h"

namespace quiver {
namespace {

using db::Op;
using db::OpKind;
using db::Stamp;
using testing::MakeCollection;
using testing::OpenTestDatabase;

CollectionConfig Config() {
  CollectionConfig c;
  c.vectors["a"] = VectorParams{3, Distance::kEuclid, IndexKind::kHnsw};
  c.vectors["b"] = VectorParams{2, Distance::kCosine, IndexKind::kFlat};
  return c;
}

// A random op from one of three writers, over few ids and keys so ops collide a lot.
Op RandomOp(SplitMix64& rng, uint64_t writer, uint64_t hlc) {
  Op op;
  op.id = rng() % 5 == 0 ? *PointId::Parse("00000000-0000-0000-0000-00000000000" + std::to_string(rng() % 3))
                         : PointId::Number(rng() % 12);
  op.stamp = Stamp{hlc, writer};
  const char* keys[] = {"k0", "k1", "k2", "k3"};
  auto random_payload = [&] {
    boost::json::object o;
    for (const char* k : keys) {
      if (rng() % 2) o[k] = static_cast<int64_t>(rng() % 4);
    }
    if (rng() % 4 == 0) o["nested"] = boost::json::object{{"x", static_cast<int64_t>(rng() % 3)}};
    return o;
  };
  switch (rng() % 8) {
    case 0:
    case 1:
    case 2:
      op.kind = OpKind::kUpsert;
      op.vectors.emplace_back("a", std::vector<float>{float(rng() % 5), float(rng() % 5), 1});
      if (rng() % 2) op.vectors.emplace_back("b", std::vector<float>{float(rng() % 5), 1});
      op.payload = random_payload();
      break;
    case 3:
      op.kind = OpKind::kDelete;
      break;
    case 4:
      op.kind = OpKind::kSetPayload;
      op.payload = random_payload();
      break;
    case 5:
      op.kind = OpKind::kOverwritePayload;
      op.payload = random_payload();
      break;
    case 6:
      op.kind = OpKind::kDeletePayloadKeys;
      op.keys = {keys[rng() % 4], keys[rng() % 4]};
      break;
    default:
      op.kind = OpKind::kClearPayload;
      break;
  }
  return op;
}

std::string ApplyAll(Database& db, const std::string& name, const std::vector<Op>& ops) {
  auto col = MakeCollection(db, name, Config());
  for (const Op& op : ops) REQUIRE(col->core().ApplyOps({&op, 1}).ok());
  return col->core().StateDigest();
}

TEST_CASE("replication: any order, with duplicates, gives the same state", "[db][replication]") {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    INFO("seed " << seed);
    SplitMix64 rng(seed);
    // Three writers with their own clocks that drift apart; stamps stay unique.
    std::vector<Op> ops;
    uint64_t clocks[3] = {1000, 1000, 1000};
    for (int i = 0; i < 150; ++i) {
      const uint64_t w = rng() % 3;
      clocks[w] += 1 + rng() % 3;
      ops.push_back(RandomOp(rng, w + 1, db::MakeHlc(clocks[w], 0)));
    }
    auto db = OpenTestDatabase();
    const std::string reference = ApplyAll(*db, "ref", ops);
    REQUIRE_FALSE(reference.empty());
    for (int replica = 0; replica < 4; ++replica) {
      std::vector<Op> shuffled = ops;
      // Duplicates: re-deliver a random fifth of the ops.
      for (int d = 0; d < 30; ++d) shuffled.push_back(ops[rng() % ops.size()]);
      std::mt19937_64 g(seed * 100 + replica);
      std::shuffle(shuffled.begin(), shuffled.end(), g);
      CHECK(ApplyAll(*db, "r" + std::to_string(replica), shuffled) == reference);
    }
  }
}

TEST_CASE("replication: local writes replayed elsewhere give the same state", "[db][replication]") {
  auto db1 = OpenTestDatabase(1);
  auto db2 = OpenTestDatabase(2);
  auto a = MakeCollection(*db1, "c", Config());
  auto b = MakeCollection(*db2, "c", Config());
  std::vector<Op> log;
  a->core().SetOpListener([&](std::span<const Op> ops) {
    log.insert(log.end(), ops.begin(), ops.end());
    return Status::OK();
  });
  auto pt = [](uint64_t id, float x, const char* payload) {
    PointInput p;
    p.id = PointId::Number(id);
    p.vectors["a"] = {x, 1, 2};
    p.payload = payload;
    return p;
  };
  REQUIRE(a->Upsert(std::vector<PointInput>{pt(1, 1, R"({"t":"x","n":{"m":1,"k":2}})"), pt(2, 2, "")}).ok());
  REQUIRE(a->SetPayload(PointsSelector::Ids({PointId::Number(2)}), R"({"t":"y"})").ok());
  REQUIRE(a->DeletePayloadKeys(PointsSelector::Ids({PointId::Number(1)}), {"n.m"}).ok());
  REQUIRE(a->Delete(PointsSelector::Ids({PointId::Number(2)})).ok());
  REQUIRE(a->Upsert(std::vector<PointInput>{pt(3, 3, R"({"t":"z"})")}).ok());
  REQUIRE(a->ClearPayload(PointsSelector::Ids({PointId::Number(3)})).ok());
  REQUIRE(log.size() == 7);
  std::reverse(log.begin(), log.end());
  REQUIRE(b->core().ApplyOps(log).ok());
  CHECK(b->core().StateDigest() == a->core().StateDigest());
  // The receiving clock moved past every stamp it applied.
  CHECK(db2->core().clock().last() >= log.front().stamp.hlc);
}

TEST_CASE("replication: a payload-only write never brings a deleted point back", "[db][replication]") {
  auto db = OpenTestDatabase();
  auto col = MakeCollection(*db, "c", Config());
  Op up;
  up.kind = OpKind::kUpsert;
  up.id = PointId::Number(1);
  up.stamp = Stamp{10, 1};
  up.vectors.emplace_back("a", std::vector<float>{1, 2, 3});
  Op del = up;
  del.kind = OpKind::kDelete;
  del.vectors.clear();
  del.stamp = Stamp{20, 1};
  Op set;
  set.kind = OpKind::kSetPayload;
  set.id = up.id;
  set.stamp = Stamp{30, 2};
  set.payload["x"] = 1;
  std::vector<Op> ops = {set, del, up};
  REQUIRE(col->core().ApplyOps(ops).ok());
  CHECK(col->Info().points_count == 0);
  // A newer upsert revives it, and the older payload write stays invisible.
  Op again = up;
  again.stamp = Stamp{40, 1};
  REQUIRE(col->core().ApplyOps({&again, 1}).ok());
  auto got = col->Get(std::vector<PointId>{up.id}, PayloadSelector::All(), VectorSelector::All());
  REQUIRE(got->size() == 1);
  CHECK(*(*got)[0].payload == "{}");
  // Ops are checked before anything applies.
  Op bad = up;
  bad.stamp = Stamp{50, 1};
  bad.vectors[0].second = {1, 2};
  const std::string before = col->core().StateDigest();
  CHECK(col->core().ApplyOps({&bad, 1}).IsInvalidArgument());
  CHECK(col->core().StateDigest() == before);
}

}  // namespace
}  // namespace quiver
