// The Query API's groups (query.h, RunQueryGroups): the query's ranked points grouped by a payload value.
//
// The groups are those an exact grouping of the query's whole ranked list gives: walking the list best first,
// the first `limit` distinct values of the group_by field are the groups (so they are ordered by their best
// hit), each holding its first group_size points. A point whose field holds several values (an array) is in
// each of their groups; a point whose values are not all strings or integers is left out, as are points without
// the field (Qdrant's rules). The list is read with a limit of groups * group_size points, and read again four
// times longer until the groups are full or the list is exhausted (Qdrant instead re-queries with filters that
// leave out the points and full groups found so far; both give this grouping). As in Qdrant, the limits of the
// prefetches are multiplied by the number of groups.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "db/collection_core.h"
#include "db/query_internal.h"
#include "payload/json_util.h"

namespace quiver::db {
namespace {

using internal::Candidate;
using internal::FilterPtr;

// The group ids of a payload holding the group_by field (cut down to it); empty when the point belongs to no
// group.
std::vector<GroupId> GroupIdsOf(const boost::json::object& payload, const payload::JsonPath& path) {
  std::vector<GroupId> ids;
  bool bad = false;
  auto add = [&](const boost::json::value& v) {
    if (const boost::json::string* s = v.if_string()) {
      ids.emplace_back(std::string(s->data(), s->size()));
    } else if (const uint64_t* u = v.if_uint64()) {
      ids.emplace_back(*u);
    } else if (const int64_t* i = v.if_int64()) {
      if (*i >= 0) {
        ids.emplace_back(static_cast<uint64_t>(*i));
      } else {
        ids.emplace_back(*i);
      }
    } else {
      bad = true;
    }
  };
  payload::ForEachRawValue(payload, path, [&](const boost::json::value& v) {
    if (const boost::json::array* a = v.if_array()) {
      for (const boost::json::value& e : *a) add(e);
    } else {
      add(v);
    }
    return false;
  });
  if (bad) return {};
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::optional<PointId> GroupPointId(const GroupId& id) {
  if (const uint64_t* u = std::get_if<uint64_t>(&id)) return PointId::Number(*u);
  if (const std::string* s = std::get_if<std::string>(&id)) {
    auto uuid = PointId::ParseUuid(*s);
    if (uuid.ok()) return *uuid;
  }
  return std::nullopt;
}

}  // namespace

Result<GroupsResponse> RunQueryGroups(const CollectionCore& collection, const QueryGroupsRequest& request,
                                      const CollectionFinder& find) {
  const QueryStage& root = request.query.root;
  const size_t groups = root.limit;
  const size_t group_size = request.group_size;
  internal::QueryRunner runner(collection, find);
  runner.set_limit_multiplier(groups);
  QUIVER_RETURN_IF_ERROR(runner.Prepare(root, 0));
  // Only points with the field can be in a group.
  auto has_key = std::make_shared<payload::Filter>();
  has_key->must_not.push_back(payload::IsEmptyCondition{request.group_by});
  const FilterPtr inherited = internal::And(runner.Exclusions(), has_key);

  // The group_by path's values per point, read once per point.
  std::string include = request.group_by_text;
  if (include.size() > 2 && include.compare(include.size() - 2, 2, "[]") == 0) include.resize(include.size() - 2);
  std::unordered_map<PointId, std::vector<GroupId>, PointIdHash> keys;

  std::vector<Candidate> ranked;
  bool ordered = false;
  std::vector<GroupId> chosen;                         // the groups, best first
  std::map<GroupId, std::vector<size_t>> members;      // group -> positions in `ranked`
  for (size_t limit = internal::ClampedProduct(groups, group_size);;
       limit = internal::ClampedProduct(limit, 4)) {
    QUIVER_ASSIGN_OR_RETURN(internal::Ranked r, runner.Run(root, inherited, limit));
    ordered = r.ordered_by_payload;
    ranked = std::move(r.points);
    std::vector<PointId> unknown;
    for (const Candidate& c : ranked) {
      if (!keys.count(c.id)) unknown.push_back(c.id);
    }
    if (!unknown.empty()) {
      QUIVER_ASSIGN_OR_RETURN(auto records, collection.Get(unknown, PayloadSelector::Include({include}),
                                                           VectorSelector::None()));
      for (const Record& rec : records) {
        QUIVER_ASSIGN_OR_RETURN(boost::json::object payload,
                                payload::ParsePayloadText(rec.payload.value_or("{}"), "payload"));
        keys[rec.id] = GroupIdsOf(payload, request.group_by);
      }
      for (const PointId& id : unknown) keys.try_emplace(id);  // deleted meanwhile: no group
    }
    chosen.clear();
    members.clear();
    for (size_t i = 0; i < ranked.size(); ++i) {
      for (const GroupId& g : keys[ranked[i].id]) {
        auto it = members.find(g);
        if (it == members.end()) {
          if (chosen.size() == groups) continue;  // a worse group than the chosen ones
          chosen.push_back(g);
          it = members.emplace(g, std::vector<size_t>()).first;
        }
        if (it->second.size() < group_size) it->second.push_back(i);
      }
    }
    const bool full = chosen.size() == groups &&
                      std::all_of(chosen.begin(), chosen.end(),
                                  [&](const GroupId& g) { return members[g].size() == group_size; });
    if (full || ranked.size() < limit || limit == kMaxStagePoints) break;
  }

  // Payloads and vectors of the hits, read once.
  std::vector<size_t> positions;
  for (const GroupId& g : chosen) positions.insert(positions.end(), members[g].begin(), members[g].end());
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  std::vector<Candidate> hits;
  hits.reserve(positions.size());
  for (size_t i : positions) hits.push_back(ranked[i]);
  QueryResponse filled;
  QUIVER_RETURN_IF_ERROR(runner.Fill(request.query, hits, ordered, &filled));
  std::unordered_map<PointId, size_t, PointIdHash> at;
  for (size_t i = 0; i < filled.points.size(); ++i) at.emplace(filled.points[i].id, i);

  GroupsResponse out;
  for (const GroupId& g : chosen) {
    PointGroup group;
    group.id = g;
    for (size_t i : members[g]) {
      auto it = at.find(ranked[i].id);
      if (it == at.end()) continue;  // deleted meanwhile
      group.hits.points.push_back(filled.points[it->second]);
      if (ordered) group.hits.order_values.push_back(filled.order_values[it->second]);
    }
    if (!group.hits.points.empty()) out.groups.push_back(std::move(group));
  }

  if (request.with_lookup) {
    const WithLookup& lookup = *request.with_lookup;
    QUIVER_ASSIGN_OR_RETURN(const CollectionCore* source,
                            runner.Named(lookup.collection, root.path + ".with_lookup.collection"));
    std::vector<PointId> ids;
    for (const PointGroup& g : out.groups) {
      if (auto id = GroupPointId(g.id)) ids.push_back(*id);
    }
    auto records = source->Get(ids, lookup.with_payload, lookup.with_vector);
    if (!records.ok()) return records.status().WithContext(root.path + ".with_lookup");
    std::unordered_map<PointId, Record*, PointIdHash> by_id;
    for (Record& r : *records) by_id.emplace(r.id, &r);
    for (PointGroup& g : out.groups) {
      auto id = GroupPointId(g.id);
      if (!id) continue;
      if (auto it = by_id.find(*id); it != by_id.end()) g.lookup = *it->second;
    }
  }
  return out;
}

}  // namespace quiver::db
