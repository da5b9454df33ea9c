// The C API's collection handle (quiver.h, "Collection"): the typed functions call the C++ API, the *_json
// functions the request layer (quiver/api.h).
#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "capi/capi_internal.h"

using quiver::Status;
using namespace quiver::capi;
template <typename T>
using Result = quiver::Result<T>;

namespace {

// Points chosen by ids, or by the filter when it is not NULL.
Result<quiver::PointsSelector> Selector(const uint64_t* ids, size_t count, const char* filter_json) {
  if (filter_json) return quiver::PointsSelector::Filter(filter_json);
  if (count && !ids) return Misuse("ids is NULL but count is not 0");
  return quiver::PointsSelector::Ids(Ids(ids, count));
}

quiver::PayloadSelector PayloadFlags(unsigned flags) {
  return (flags & QV_WITH_PAYLOAD) ? quiver::PayloadSelector::All() : quiver::PayloadSelector::None();
}
quiver::VectorSelector VectorFlags(unsigned flags) {
  return (flags & QV_WITH_VECTOR) ? quiver::VectorSelector::All() : quiver::VectorSelector::None();
}

std::unique_ptr<qv_result> MakeResult(qv_result::Kind kind, std::vector<quiver::ScoredPoint> points) {
  auto r = std::make_unique<qv_result>();
  r->kind = kind;
  r->points = std::move(points);
  r->ids.reserve(r->points.size());
  for (const auto& p : r->points) r->ids.push_back(p.id.ToString());
  return r;
}

std::vector<quiver::ScoredPoint> FromRecords(std::vector<quiver::Record> records) {
  std::vector<quiver::ScoredPoint> out;
  out.reserve(records.size());
  for (auto& rec : records) {
    quiver::ScoredPoint p;
    p.id = rec.id;
    p.payload = std::move(rec.payload);
    p.vectors = std::move(rec.vectors);
    out.push_back(std::move(p));
  }
  return out;
}

Status WriteWholeFile(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Status::IOError("cannot create '" + tmp + "': " + std::strerror(errno));
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return Status::IOError("cannot write '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IOError("cannot rename '" + tmp + "' to '" + path + "'");
  }
  return Status::OK();
}

// The common shape of a collection entry point: misuse checks, then the body, guarded.
#define QV_COLLECTION_ENTRY(c)                  \
  if (!(c)) return QV_MISUSE;                   \
  ErrorSlot* slot_ = &(c)->error;               \
  quiver::Collection& coll_ = *(c)->collection; \
  (void)coll_;

Status SetCount(Result<size_t> r, uint64_t* out) {
  if (!r.ok()) return r.status();
  if (out) *out = *r;
  return Status::OK();
}

quiver::SearchRequest MakeSearch(const float* vector, size_t dim, size_t limit, size_t ef,
                                 const char* filter_json, unsigned flags) {
  quiver::SearchRequest req;
  req.vector.assign(vector, vector + dim);
  req.limit = limit;
  if (ef) req.hnsw_ef = ef;
  if (filter_json) req.filter = filter_json;
  req.with_payload = PayloadFlags(flags);
  req.with_vector = VectorFlags(flags);
  req.exact = (flags & QV_EXACT) != 0;
  return req;
}

}  // namespace

extern "C" {

void qv_collection_destroy(qv_collection* collection) { delete collection; }

const char* qv_collection_errmsg(const qv_collection* c) { return c ? c->error.message.c_str() : ""; }
int qv_collection_errcode(const qv_collection* c) { return c ? c->error.code : QV_OK; }
const char* qv_collection_name(const qv_collection* c) { return c ? c->collection->name().c_str() : ""; }

int qv_collection_upsert(qv_collection* c, const char* vector_name, const uint64_t* ids, const float* vectors,
                         size_t count, size_t dim, const char* const* payloads) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (count && (!ids || !vectors)) return Misuse("ids or vectors is NULL");
    std::vector<quiver::PointId> point_ids = Ids(ids, count);
    std::vector<std::string> texts;
    if (payloads) {
      texts.resize(count);
      for (size_t i = 0; i < count; ++i) {
        if (payloads[i]) texts[i] = payloads[i];
      }
    }
    return coll_.UpsertDense(point_ids, Str(vector_name), {vectors, count * dim}, texts);
  });
}

int qv_collection_upsert_json(qv_collection* c, const char* body) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kUpsertPoints, body, nullptr, nullptr); });
}

int qv_collection_get(qv_collection* c, const uint64_t* ids, size_t count, unsigned flags, qv_result** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (count && !ids) return Misuse("ids is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto records,
                            coll_.Get(Ids(ids, count), PayloadFlags(flags), VectorFlags(flags)));
    *out = MakeResult(qv_result::Kind::kRecords, FromRecords(std::move(records))).release();
    return Status::OK();
  });
}

int qv_collection_get_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kGetPoints, body, out, nullptr); });
}

int qv_collection_delete(qv_collection* c, const uint64_t* ids, size_t count, uint64_t* deleted) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (count && !ids) return Misuse("ids is NULL");
    return SetCount(coll_.Delete(quiver::PointsSelector::Ids(Ids(ids, count))), deleted);
  });
}

int qv_collection_delete_by_filter(qv_collection* c, const char* filter_json, uint64_t* deleted) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!filter_json) return Misuse("filter_json is NULL");
    return SetCount(coll_.Delete(quiver::PointsSelector::Filter(filter_json)), deleted);
  });
}

int qv_collection_delete_json(qv_collection* c, const char* body, uint64_t* deleted) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kDeletePoints, body, nullptr, deleted); });
}

int qv_collection_set_payload(qv_collection* c, const uint64_t* ids, size_t count, const char* filter_json,
                              const char* payload_json, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!payload_json) return Misuse("payload_json is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto sel, Selector(ids, count, filter_json));
    return SetCount(coll_.SetPayload(sel, payload_json), changed);
  });
}

int qv_collection_overwrite_payload(qv_collection* c, const uint64_t* ids, size_t count,
                                    const char* filter_json, const char* payload_json, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!payload_json) return Misuse("payload_json is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto sel, Selector(ids, count, filter_json));
    return SetCount(coll_.OverwritePayload(sel, payload_json), changed);
  });
}

int qv_collection_delete_payload_keys(qv_collection* c, const uint64_t* ids, size_t count,
                                      const char* filter_json, const char* const* keys, size_t key_count,
                                      uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (key_count && !keys) return Misuse("keys is NULL");
    std::vector<std::string> k;
    for (size_t i = 0; i < key_count; ++i) {
      if (!keys[i]) return Misuse("a key is NULL");
      k.emplace_back(keys[i]);
    }
    QUIVER_ASSIGN_OR_RETURN(auto sel, Selector(ids, count, filter_json));
    return SetCount(coll_.DeletePayloadKeys(sel, k), changed);
  });
}

int qv_collection_clear_payload(qv_collection* c, const uint64_t* ids, size_t count, const char* filter_json,
                                uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    QUIVER_ASSIGN_OR_RETURN(auto sel, Selector(ids, count, filter_json));
    return SetCount(coll_.ClearPayload(sel), changed);
  });
}

int qv_collection_set_payload_json(qv_collection* c, const char* body, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kSetPayload, body, nullptr, changed); });
}

int qv_collection_overwrite_payload_json(qv_collection* c, const char* body, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kOverwritePayload, body, nullptr, changed); });
}

int qv_collection_delete_payload_json(qv_collection* c, const char* body, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kDeletePayload, body, nullptr, changed); });
}

int qv_collection_clear_payload_json(qv_collection* c, const char* body, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kClearPayload, body, nullptr, changed); });
}


int qv_collection_search(qv_collection* c, const float* vector, size_t dim, size_t limit, size_t ef,
                         const char* filter_json, unsigned flags, qv_result** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (!vector && dim) return Misuse("vector is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto points,
                            coll_.Search(MakeSearch(vector, dim, limit, ef, filter_json, flags)));
    *out = MakeResult(qv_result::Kind::kScored, std::move(points)).release();
    return Status::OK();
  });
}

int qv_collection_search_batch(qv_collection* c, const float* vectors, size_t count, size_t dim, size_t limit,
                               size_t ef, const char* filter_json, unsigned flags, qv_result** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out && count) return QV_MISUSE;
  for (size_t i = 0; i < count; ++i) out[i] = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (!vectors && count && dim) return Misuse("vectors is NULL");
    std::vector<quiver::SearchRequest> reqs;
    reqs.reserve(count);
    for (size_t i = 0; i < count; ++i)
      reqs.push_back(MakeSearch(vectors + i * dim, dim, limit, ef, filter_json, flags));
    QUIVER_ASSIGN_OR_RETURN(auto batches, coll_.SearchBatch(reqs));
    std::vector<std::unique_ptr<qv_result>> results;
    results.reserve(batches.size());
    for (auto& b : batches) results.push_back(MakeResult(qv_result::Kind::kScored, std::move(b)));
    for (size_t i = 0; i < results.size() && i < count; ++i) out[i] = results[i].release();
    return Status::OK();
  });
}

int qv_collection_search_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kSearchPoints, body, out, nullptr); });
}

int qv_collection_search_batch_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kSearchBatch, body, out, nullptr); });
}

int qv_collection_recommend(qv_collection* c, const uint64_t* positive, size_t positive_count,
                            const uint64_t* negative, size_t negative_count, size_t limit,
                            const char* filter_json, unsigned flags, qv_result** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if ((positive_count && !positive) || (negative_count && !negative))
      return Misuse("positive or negative is NULL");
    quiver::RecommendRequest req;
    req.positive = Ids(positive, positive_count);
    req.negative = Ids(negative, negative_count);
    req.limit = limit;
    if (filter_json) req.filter = filter_json;
    req.with_payload = PayloadFlags(flags);
    req.with_vector = VectorFlags(flags);
    req.exact = (flags & QV_EXACT) != 0;
    QUIVER_ASSIGN_OR_RETURN(auto points, coll_.Recommend(req));
    *out = MakeResult(qv_result::Kind::kScored, std::move(points)).release();
    return Status::OK();
  });
}

int qv_collection_recommend_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kRecommendPoints, body, out, nullptr); });
}

int qv_collection_query_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kQueryPoints, body, out, nullptr); });
}

int qv_collection_query_batch_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kQueryBatch, body, out, nullptr); });
}

int qv_collection_query_groups_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kQueryGroups, body, out, nullptr); });
}

int qv_collection_scroll(qv_collection* c, const char* filter_json, size_t limit, const uint64_t* offset,
                         unsigned flags, qv_result** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    quiver::ScrollRequest req;
    if (filter_json) req.filter = filter_json;
    req.limit = limit;
    if (offset) req.offset = quiver::PointId::Number(*offset);
    req.with_payload = PayloadFlags(flags);
    req.with_vector = VectorFlags(flags);
    QUIVER_ASSIGN_OR_RETURN(auto page, coll_.Scroll(req));
    auto r = MakeResult(qv_result::Kind::kScroll, FromRecords(std::move(page.points)));
    r->next_offset = page.next_page_offset;
    *out = r.release();
    return Status::OK();
  });
}

int qv_collection_scroll_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kScrollPoints, body, out, nullptr); });
}

int qv_collection_count(qv_collection* c, const char* filter_json, uint64_t* count) {
  QV_COLLECTION_ENTRY(c);
  if (!count) return QV_MISUSE;
  return Guard(slot_, [&]() -> Status { return SetCount(coll_.Count(Str(filter_json)), count); });
}

int qv_collection_count_json(qv_collection* c, const char* body, uint64_t* count) {
  QV_COLLECTION_ENTRY(c);
  if (!count) return QV_MISUSE;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kCountPoints, body, nullptr, count); });
}

int qv_collection_create_payload_index(qv_collection* c, const char* field, const char* type) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!field || !type) return Misuse("field or type is NULL");
    return coll_.CreatePayloadIndex(field, type);
  });
}

int qv_collection_create_payload_index_json(qv_collection* c, const char* body) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kCreateFieldIndex, body, nullptr, nullptr); });
}

int qv_collection_delete_payload_index(qv_collection* c, const char* field) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!field) return Misuse("field is NULL");
    return coll_.DeletePayloadIndex(field);
  });
}

int qv_collection_snapshot(qv_collection* c, const char* path) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!path) return Misuse("path is NULL");
    QUIVER_ASSIGN_OR_RETURN(std::string bytes, coll_.CreateSnapshot());
    return WriteWholeFile(path, bytes);
  });
}

int qv_collection_optimize(qv_collection* c) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status { return coll_.Optimize(); });
}

int qv_collection_info_json(qv_collection* c, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kGetCollection, "", out, nullptr); });
}

int qv_collection_stats_json(qv_collection* c, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return RunJson(coll_, quiver::api::Operation::kCollectionStats, "", out, nullptr); });
}

int qv_collection_verify(qv_collection* c, size_t* problems, char** report) {
  QV_COLLECTION_ENTRY(c);
  if (report) *report = nullptr;
  return Guard(slot_, [&]() -> Status {
    QUIVER_ASSIGN_OR_RETURN(auto found, coll_.Verify());
    if (problems) *problems = found.size();
    if (report) {
      boost::json::array list;
      for (const std::string& p : found) list.emplace_back(p);
      return Dup(boost::json::serialize(list), report);
    }
    return Status::OK();
  });
}

}  // extern "C"
