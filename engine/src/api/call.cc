// Call: the entry point every face uses (quiver/api.h): find the target, parse the body once, execute.
#include <array>

#include "api/request.h"

namespace quiver::api {
namespace {

using Op = Operation;

// name, writes, collection (needs a Collection handle), body
constexpr std::array<OperationInfo, kOperationCount> kOperations = {{
    {Op::kListCollections, "get_collections", false, false, false},
    {Op::kGetCollection, "get_collection", false, true, false},
    {Op::kCreateCollection, "create_collection", true, false, true},
    {Op::kUpdateCollection, "update_collection", true, true, true},
    {Op::kDeleteCollection, "delete_collection", true, false, false},
    {Op::kCollectionExists, "collection_exists", false, false, false},
    {Op::kUpdateAliases, "update_aliases", true, false, true},
    {Op::kListAliases, "get_collections_aliases", false, false, false},
    {Op::kListCollectionAliases, "get_collection_aliases", false, false, false},
    {Op::kUpsertPoints, "upsert_points", true, true, true},
    {Op::kGetPoint, "get_point", false, true, false},
    {Op::kGetPoints, "get_points", false, true, true},
    {Op::kDeletePoints, "delete_points", true, true, true},
    {Op::kSetPayload, "set_payload", true, true, true},
    {Op::kOverwritePayload, "overwrite_payload", true, true, true},
    {Op::kDeletePayload, "delete_payload", true, true, true},
    {Op::kClearPayload, "clear_payload", true, true, true},
    {Op::kBatchUpdate, "batch_update", true, true, true},
    {Op::kScrollPoints, "scroll_points", false, true, true},
    {Op::kCountPoints, "count_points", false, true, true},
    {Op::kSearchPoints, "search_points", false, true, true},
    {Op::kSearchBatch, "search_batch_points", false, true, true},
    {Op::kRecommendPoints, "recommend_points", false, true, true},
    {Op::kRecommendBatch, "recommend_batch_points", false, true, true},
    {Op::kCreateFieldIndex, "create_field_index", true, true, true},
    {Op::kDeleteFieldIndex, "delete_field_index", true, true, false},
    {Op::kOptimize, "optimize", true, true, false},
    {Op::kCollectionStats, "collection_stats", false, true, false},
    {Op::kVerify, "verify", false, true, false},
    {Op::kQueryPoints, "query_points", false, true, true},
    {Op::kQueryBatch, "query_batch_points", false, true, true},
    {Op::kQueryGroups, "query_points_groups", false, true, true},
    {Op::kRepairCollection, "repair_collection", true, false, false},
}};

constexpr bool TableInOrder() {
  for (size_t i = 0; i < kOperations.size(); ++i) {
    if (static_cast<size_t>(kOperations[i].operation) != i) return false;
  }
  return true;
}
static_assert(TableInOrder(), "kOperations must list every Operation in enum order");

Status NeedName(const OperationInfo& info, const Target& target) {
  if (target.collection.empty()) return Status::InvalidArgument(std::string(info.name) + ": no collection named");
  return Status::OK();
}

}  // namespace

const OperationInfo& Describe(Operation operation) {
  const size_t i = static_cast<size_t>(operation);
  return kOperations[i < kOperations.size() ? i : 0];
}

std::optional<Operation> FindOperation(std::string_view name) {
  for (const OperationInfo& info : kOperations) {
    if (info.name == name) return info.operation;
  }
  return std::nullopt;
}

Result<Response> Call(Database& db, Operation operation, const Target& target, std::string_view body) {
  const OperationInfo& info = Describe(operation);
  QUIVER_ASSIGN_OR_RETURN(Request request, ParseRequest(operation, target, body));
  switch (operation) {
    case Operation::kCreateCollection:
      QUIVER_RETURN_IF_ERROR(NeedName(info, target));
      QUIVER_RETURN_IF_ERROR(
          db.CreateCollection(target.collection, std::get<CreateCollectionRequest>(request).config));
      return Response(true);
    case Operation::kDeleteCollection:
      QUIVER_RETURN_IF_ERROR(NeedName(info, target));
      QUIVER_RETURN_IF_ERROR(db.DeleteCollection(target.collection));
      return Response(true);
    case Operation::kCollectionExists:
      QUIVER_RETURN_IF_ERROR(NeedName(info, target));
      return Response(Exists{db.CollectionExists(target.collection)});
    case Operation::kRepairCollection: {
      QUIVER_RETURN_IF_ERROR(NeedName(info, target));
      QUIVER_ASSIGN_OR_RETURN(RepairReport report, db.Repair(target.collection));
      return Response(std::move(report));
    }
    case Operation::kListCollectionAliases: {
      QUIVER_RETURN_IF_ERROR(NeedName(info, target));
      QUIVER_ASSIGN_OR_RETURN(auto collection, db.GetCollection(target.collection));
      AliasList list;
      for (auto& [alias, name] : db.ListAliases()) {
        if (name == collection->name()) list.aliases.emplace_back(alias, name);
      }
      return Response(std::move(list));
    }
    default:
      break;
  }
  if (!info.collection) return Execute(&db, nullptr, operation, std::move(request));
  QUIVER_RETURN_IF_ERROR(NeedName(info, target));
  QUIVER_ASSIGN_OR_RETURN(auto collection, db.GetCollection(target.collection));
  return Execute(&db, collection.get(), operation, std::move(request));
}

Result<Response> Call(Collection& collection, Operation operation, const Target& target, std::string_view body) {
  const OperationInfo& info = Describe(operation);
  if (!info.collection) {
    return Status::InvalidArgument(std::string(info.name) + " is not an operation on a collection");
  }
  QUIVER_ASSIGN_OR_RETURN(Request request, ParseRequest(operation, target, body));
  return Execute(nullptr, &collection, operation, std::move(request));
}

size_t AffectedPoints(const Response& response) {
  if (const auto* u = std::get_if<UpdateResult>(&response)) return u->points;
  if (const auto* c = std::get_if<CountResult>(&response)) return c->count;
  if (const auto* list = std::get_if<std::vector<UpdateResult>>(&response)) {
    size_t n = 0;
    for (const UpdateResult& u : *list) n += u.points;
    return n;
  }
  return 0;
}

}  // namespace quiver::api
