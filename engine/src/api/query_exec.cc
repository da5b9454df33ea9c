// ExecuteQuery: the Query API's operations (request.h) run by the executor (db/query.h). Other collections a
// query names (lookup_from, with_lookup) are found through the database when the caller went through one.
#include "api/request.h"
#include "db/query.h"

namespace quiver::api {

Result<Response> ExecuteQuery(Database* db, Collection& collection, Operation operation, Request&& request) {
  db::CollectionFinder find;
  if (db != nullptr) find = [db](std::string_view name) { return db->GetCollection(name); };
  const db::CollectionCore& core = collection.core();
  switch (operation) {
    case Operation::kQueryPoints: {
      QUIVER_ASSIGN_OR_RETURN(QueryResponse r, db::RunQuery(core, std::get<QueryPointsRequest>(request).query, find));
      return Response(std::move(r));
    }
    case Operation::kQueryBatch: {
      const auto& searches = std::get<QueryBatchRequest>(request).searches;
      std::vector<QueryResponse> out;
      out.reserve(searches.size());
      for (const db::QueryRequest& q : searches) {
        QUIVER_ASSIGN_OR_RETURN(QueryResponse r, db::RunQuery(core, q, find));
        out.push_back(std::move(r));
      }
      return Response(std::move(out));
    }
    case Operation::kQueryGroups: {
      QUIVER_ASSIGN_OR_RETURN(GroupsResponse r,
                              db::RunQueryGroups(core, std::get<QueryGroupsPointsRequest>(request).groups, find));
      return Response(std::move(r));
    }
    default:
      break;
  }
  return Status::Internal(std::string(Describe(operation).name) + " is not a query operation");
}

}  // namespace quiver::api
