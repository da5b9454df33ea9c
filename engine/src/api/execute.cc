// Execute: runs a typed request (request.h) against the database or one collection.
#include <algorithm>

#include "api/body_reader.h"
#include "api/request.h"
#include "db/collection_core.h"
#include "payload/json_read.h"
#include "payload/json_util.h"

namespace quiver::api {
namespace {

using db::CollectionCore;

UpdateResult Updated(const db::WriteOutcome& w) { return UpdateResult{w.operation_id, w.points}; }

Result<UpdateResult> Upsert(CollectionCore& c, UpsertRequest&& r) {
  std::vector<db::Op> ops(r.points.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    PointWrite& p = r.points[i];
    ops[i].id = p.id;
    ops[i].vectors = std::move(p.vectors);
    ops[i].sparse = std::move(p.sparse);
    ops[i].payload = std::move(p.payload);
  }
  QUIVER_ASSIGN_OR_RETURN(db::WriteOutcome w, c.UpsertOps(std::move(ops), r.condition));
  return Updated(w);
}

Result<UpdateResult> RunBatchOperation(CollectionCore& c, BatchOperation&& b) {
  using Kind = BatchOperation::Kind;
  Result<db::WriteOutcome> w = db::WriteOutcome{};
  switch (b.kind) {
    case Kind::kUpsert:
      return Upsert(c, std::move(b.upsert));
    case Kind::kDelete:
      w = c.Delete(b.points);
      break;
    case Kind::kSetPayload:
      w = c.SetPayload(b.points, b.payload);
      break;
    case Kind::kOverwritePayload:
      w = c.OverwritePayload(b.points, b.payload);
      break;
    case Kind::kDeletePayload:
      w = c.DeletePayloadKeys(b.points, b.keys);
      break;
    case Kind::kClearPayload:
      w = c.ClearPayload(b.points);
      break;
  }
  if (!w.ok()) return w.status();
  return Updated(*w);
}

const payload::Filter* FilterOf(const std::optional<payload::Filter>& f) { return f ? &*f : nullptr; }

template <typename T>
Result<Response> Wrap(Result<T> r) {
  if (!r.ok()) return r.status();
  return Response(std::move(*r));
}

Result<Response> RunOnCollection(Collection& collection, Operation operation, Request&& request) {
  CollectionCore& c = collection.core();
  switch (operation) {
    case Operation::kGetCollection:
      return Response(c.Info());
    case Operation::kUpdateCollection:
      QUIVER_RETURN_IF_ERROR(c.Update(std::get<UpdateCollectionRequest>(request).update));
      return Response(true);
    case Operation::kUpsertPoints:
      return Wrap(Upsert(c, std::move(std::get<UpsertRequest>(request))));
    case Operation::kGetPoint: {
      const PointId id = std::get<GetPointRequest>(request).id;
      QUIVER_ASSIGN_OR_RETURN(auto records,
                              c.Get({&id, 1}, PayloadSelector::All(), VectorSelector::All()));
      if (records.empty()) return Status::NotFound("no point with id " + id.ToString() + " in collection " + c.name());
      return Response(std::move(records[0]));
    }
    case Operation::kGetPoints: {
      auto& r = std::get<GetPointsRequest>(request);
      return Wrap(c.Get(r.ids, r.with_payload, r.with_vector));
    }
    case Operation::kDeletePoints: {
      QUIVER_ASSIGN_OR_RETURN(db::WriteOutcome w, c.Delete(std::get<DeletePointsRequest>(request).points));
      return Response(Updated(w));
    }
    case Operation::kSetPayload:
    case Operation::kOverwritePayload: {
      auto& r = std::get<PayloadWriteRequest>(request);
      Result<db::WriteOutcome> w = operation == Operation::kSetPayload ? c.SetPayload(r.points, r.payload)
                                                                        : c.OverwritePayload(r.points, r.payload);
      if (!w.ok()) return w.status();
      return Response(Updated(*w));
    }
    case Operation::kDeletePayload: {
      auto& r = std::get<DeletePayloadRequest>(request);
      QUIVER_ASSIGN_OR_RETURN(db::WriteOutcome w, c.DeletePayloadKeys(r.points, r.keys));
      return Response(Updated(w));
    }
    case Operation::kClearPayload: {
      QUIVER_ASSIGN_OR_RETURN(db::WriteOutcome w, c.ClearPayload(std::get<ClearPayloadRequest>(request).points));
      return Response(Updated(w));
    }
    case Operation::kBatchUpdate: {
      // Applied in order, as Qdrant does; the first failure stops the batch and names the operation. Earlier
      // operations stay applied.
      auto& r = std::get<BatchUpdateRequest>(request);
      std::vector<UpdateResult> out;
      out.reserve(r.operations.size());
      for (size_t i = 0; i < r.operations.size(); ++i) {
        auto one = RunBatchOperation(c, std::move(r.operations[i]));
        if (!one.ok()) return one.status().WithContext("batch_update.operations[" + std::to_string(i) + "]");
        out.push_back(*one);
      }
      return Response(std::move(out));
    }
    case Operation::kScrollPoints: {
      auto& r = std::get<ScrollPointsRequest>(request);
      return Wrap(c.Scroll(r.request, FilterOf(r.filter)));
    }
    case Operation::kCountPoints: {
      QUIVER_ASSIGN_OR_RETURN(size_t n, c.Count(FilterOf(std::get<CountPointsRequest>(request).filter)));
      return Response(CountResult{n});
    }
    case Operation::kSearchPoints: {
      auto& r = std::get<SearchPointsRequest>(request);
      return Wrap(c.Search(r.request, FilterOf(r.filter)));
    }
    case Operation::kSearchBatch: {
      auto& r = std::get<SearchBatchRequest>(request);
      // Exact searches without a filter go to the collection together: one pass over the vectors for them all
      // (on an error, the loop below names the search as this layer does).
      if (r.searches.size() > 1 && std::all_of(r.searches.begin(), r.searches.end(), [](const auto& s) {
            return s.request.exact && !s.filter && s.request.filter.empty();
          })) {
        std::vector<SearchRequest> together;
        together.reserve(r.searches.size());
        for (const auto& s : r.searches) together.push_back(s.request);
        if (auto all = c.SearchBatch(together); all.ok()) return Response(std::move(*all));
      }
      std::vector<std::vector<ScoredPoint>> out;
      out.reserve(r.searches.size());
      for (size_t i = 0; i < r.searches.size(); ++i) {
        auto one = c.Search(r.searches[i].request, FilterOf(r.searches[i].filter));
        if (!one.ok()) return one.status().WithContext("search_batch.searches[" + std::to_string(i) + "]");
        out.push_back(std::move(*one));
      }
      return Response(std::move(out));
    }
    case Operation::kRecommendPoints: {
      auto& r = std::get<RecommendPointsRequest>(request);
      return Wrap(c.Recommend(r.request, FilterOf(r.filter)));
    }
    case Operation::kRecommendBatch: {
      auto& r = std::get<RecommendBatchRequest>(request);
      std::vector<std::vector<ScoredPoint>> out;
      out.reserve(r.searches.size());
      for (size_t i = 0; i < r.searches.size(); ++i) {
        auto one = c.Recommend(r.searches[i].request, FilterOf(r.searches[i].filter));
        if (!one.ok()) return one.status().WithContext("recommend_batch.searches[" + std::to_string(i) + "]");
        out.push_back(std::move(*one));
      }
      return Response(std::move(out));
    }
    case Operation::kCreateFieldIndex: {
      auto& r = std::get<CreateFieldIndexRequest>(request);
      QUIVER_RETURN_IF_ERROR(c.CreatePayloadIndex(r.field, r.type));
      return Response(UpdateResult{});
    }
    case Operation::kDeleteFieldIndex:
      QUIVER_RETURN_IF_ERROR(c.DeletePayloadIndex(std::get<DeleteFieldIndexRequest>(request).field));
      return Response(UpdateResult{});
    case Operation::kOptimize:
      QUIVER_RETURN_IF_ERROR(c.Optimize());
      return Response(true);
    case Operation::kCollectionStats:
      return Response(c.Stats());
    case Operation::kVerify: {
      QUIVER_ASSIGN_OR_RETURN(auto problems, c.Verify());
      return Response(VerifyReport{std::move(problems)});
    }
    default:
      break;
  }
  return Status::InvalidArgument(std::string(Describe(operation).name) + " is not an operation on a collection");
}

}  // namespace

Result<Response> Execute(Database* db, Collection* collection, Operation operation, Request&& request) {
  const OperationInfo& info = Describe(operation);
  if (info.collection) {
    if (collection == nullptr) return Status::InvalidArgument(std::string(info.name) + ": no collection given");
    if (operation == Operation::kQueryPoints || operation == Operation::kQueryBatch ||
        operation == Operation::kQueryGroups) {
      return ExecuteQuery(db, *collection, operation, std::move(request));
    }
    return RunOnCollection(*collection, operation, std::move(request));
  }
  if (db == nullptr) {
    return Status::FailedPrecondition(std::string(info.name) + " needs the database, not one collection");
  }
  switch (operation) {
    case Operation::kListCollections: {
      CollectionList list{db->ListCollections()};
      std::sort(list.names.begin(), list.names.end());
      return Response(std::move(list));
    }
    case Operation::kUpdateAliases:
      QUIVER_RETURN_IF_ERROR(db->UpdateAliases(std::get<UpdateAliasesRequest>(request).actions));
      return Response(true);
    case Operation::kListAliases:
      return Response(AliasList{db->ListAliases()});
    default:
      break;
  }
  return Status::Internal(std::string(info.name) + ": no database operation");
}

}  // namespace quiver::api

namespace quiver::api {

Result<Response> UpsertDense(Collection& collection, std::string_view ids_json, std::string_view vector_name,
                             std::span<const float> vectors, std::string_view payloads_json) {
  QUIVER_ASSIGN_OR_RETURN(boost::json::value ids_value, payload::ParseJsonText(ids_json, "ids", 2));
  QUIVER_ASSIGN_OR_RETURN(std::vector<PointId> ids, payload::ReadPointIds(ids_value, "ids"));
  std::vector<boost::json::object> payloads;
  if (!payloads_json.empty()) {
    QUIVER_ASSIGN_OR_RETURN(boost::json::value pv,
                            payload::ParseJsonText(payloads_json, "payloads", payload::kMaxPayloadDepth + 1));
    QUIVER_ASSIGN_OR_RETURN(boost::json::array* list, [&]() -> Result<boost::json::array*> {
      if (boost::json::array* a = pv.if_array()) return a;
      return payload::BadField("payloads", "expected an array of objects or nulls");
    }());
    if (list->size() != ids.size()) {
      return payload::BadField("payloads", std::to_string(list->size()) + " payloads for " +
                                               std::to_string(ids.size()) + " ids");
    }
    payloads.resize(list->size());
    for (size_t i = 0; i < list->size(); ++i) {
      QUIVER_ASSIGN_OR_RETURN(payloads[i], TakePayload((*list)[i], payload::Element("payloads", i)));
    }
  }
  QUIVER_ASSIGN_OR_RETURN(db::WriteOutcome w,
                          collection.core().UpsertDense(ids, vector_name, vectors, std::move(payloads)));
  return Response(UpdateResult{w.operation_id, w.points});
}

struct PreparedSearch::Impl {
  SearchPointsRequest search;
};

PreparedSearch::PreparedSearch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PreparedSearch::PreparedSearch(PreparedSearch&&) noexcept = default;
PreparedSearch& PreparedSearch::operator=(PreparedSearch&&) noexcept = default;
PreparedSearch::~PreparedSearch() = default;

Result<PreparedSearch> PreparedSearch::Parse(std::string_view options_body, std::string_view vector_name) {
  QUIVER_ASSIGN_OR_RETURN(SearchPointsRequest search, ParseSearchWithoutVector(options_body));
  search.request.vector_name = std::string(vector_name);
  return PreparedSearch(std::make_unique<Impl>(Impl{std::move(search)}));
}

Result<std::vector<ScoredPoint>> PreparedSearch::Run(Collection& collection, std::span<const float> vector) const {
  // The request is copied only for its vector; the filter stays parsed.
  SearchRequest request = impl_->search.request;
  request.vector.assign(vector.begin(), vector.end());
  return collection.core().Search(request, FilterOf(impl_->search.filter));
}

}  // namespace quiver::api
