// Printing results in Qdrant's shapes (quiver/api.h), written straight into one string.
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "db/config_json.h"
#include "payload/json_util.h"
#include "quiver/api.h"

namespace quiver::api {
namespace {

namespace json = boost::json;

constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

// The shortest decimal text that reads back as the same float (as Qdrant prints f32 values): the first of
// "%.6g" .. "%.9g" that does. Where the standard library has floating-point <charconv> (libstdc++; not
// Emscripten's libc++ 13), to_chars and from_chars give the same text and the same check as snprintf and
// strtof (the standard defines them so) at a fraction of the cost: with snprintf this was 17% of the
// instructions quiverd spends on a search request with 10 hits (bench/server). A feature test rather than a
// file per build, because both branches are the same algorithm.
void AppendFloat(float f, std::string* out) {
  if (!std::isfinite(f)) {
    out->append("null");
    return;
  }
  char buf[32];
#if defined(__cpp_lib_to_chars)
  // The shortest text that reads back as f has the digits of the first "%.Ng" that does (N digits correctly
  // rounded are the closest N-digit number, so they read back whenever any N-digit number does), and the same
  // notation where "%.Ng" writes no exponent and neither does the shortest form: magnitudes in [1e-4, 1e6), where
  // scores and most vector values fall. One call instead of up to four conversions and checks.
  if (const float a = std::fabs(f); a == 0 || (a >= 1e-4f && a < 1e6f)) {
    const auto printed = std::to_chars(buf, buf + sizeof(buf), f);
    if (printed.ec == std::errc() && std::find(buf, printed.ptr, 'e') == printed.ptr) {
      out->append(buf, printed.ptr);
      return;
    }
  }
#endif
  for (int precision = 6; precision <= 9; ++precision) {
#if defined(__cpp_lib_to_chars)
    const auto printed = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::general, precision);
    if (printed.ec != std::errc()) break;
    const int n = static_cast<int>(printed.ptr - buf);
    float back = 0;
    const bool same = precision == 9 || (std::from_chars(buf, printed.ptr, back).ec == std::errc() && back == f);
#else
    const int n = std::snprintf(buf, sizeof(buf), "%.*g", precision, static_cast<double>(f));
    if (n <= 0) break;
    const bool same = precision == 9 || std::strtof(buf, nullptr) == f;
#endif
    if (same) {
      out->append(buf, static_cast<size_t>(n));
      return;
    }
  }
}

void AppendString(std::string_view s, std::string* out) {
  out->append(json::serialize(json::string_view(s.data(), s.size())));
}

void AppendUint(uint64_t n, std::string* out) { out->append(std::to_string(n)); }

// {"indices":[...],"values":[...]}, always inline (the vector sink holds dense vectors only).
void AppendSparse(const SparseVector& v, std::string* out) {
  out->append("{\"indices\":[");
  for (size_t i = 0; i < v.indices.size(); ++i) {
    if (i) out->push_back(',');
    AppendUint(v.indices[i], out);
  }
  out->append("],\"values\":[");
  for (size_t i = 0; i < v.values.size(); ++i) {
    if (i) out->push_back(',');
    AppendFloat(v.values[i], out);
  }
  out->append("]}");
}

void AppendVectors(const std::map<std::string, std::vector<float>>& vectors,
                   const std::map<std::string, SparseVector>& sparse, const PrintOptions& o, std::string* out) {
  auto one = [&](const std::vector<float>& v) {
    out->push_back('[');
    if (o.vector_sink) {
      AppendUint(o.vector_sink->size(), out);
      out->push_back(',');
      AppendUint(v.size(), out);
      o.vector_sink->insert(o.vector_sink->end(), v.begin(), v.end());
    } else {
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out->push_back(',');
        AppendFloat(v[i], out);
      }
    }
    out->push_back(']');
  };
  if (vectors.size() == 1 && vectors.begin()->first.empty() && sparse.empty()) {
    one(vectors.begin()->second);
    return;
  }
  out->push_back('{');
  bool first = true;
  for (const auto& [name, v] : vectors) {
    if (!first) out->push_back(',');
    first = false;
    AppendString(name, out);
    out->push_back(':');
    one(v);
  }
  for (const auto& [name, v] : sparse) {
    if (!first) out->push_back(',');
    first = false;
    AppendString(name, out);
    out->push_back(':');
    AppendSparse(v, out);
  }
  out->push_back('}');
}

void AppendOrderValue(const OrderValue& v, std::string* out) {
  if (const int64_t* i = std::get_if<int64_t>(&v.value)) {
    out->append(std::to_string(*i));
  } else {
    out->append(payload::ReadableJson(json::value(std::get<double>(v.value))));
  }
}

void AppendPoint(const PointId& id, const float* score, const std::optional<std::string>& payload,
                 const std::map<std::string, std::vector<float>>& vectors,
                 const std::map<std::string, SparseVector>& sparse, const PrintOptions& o, std::string* out,
                 const OrderValue* order_value = nullptr) {
  out->append("{\"id\":");
  PrintPointId(id, o, out);
  if (score) {
    if (!o.omit_version) out->append(",\"version\":0");
    out->append(",\"score\":");
    AppendFloat(*score, out);
  }
  if (order_value) {
    out->append(",\"order_value\":");
    AppendOrderValue(*order_value, out);
  }
  if (payload) {
    out->append(",\"payload\":");
    out->append(payload->empty() ? "{}" : *payload);
  }
  if (!vectors.empty() || !sparse.empty()) {
    out->append(",\"vector\":");
    AppendVectors(vectors, sparse, o, out);
  }
  out->push_back('}');
}

void AppendUpdate(const UpdateResult& u, std::string* out) {
  out->append("{\"operation_id\":");
  AppendUint(u.operation_id, out);
  out->append(",\"status\":\"completed\"}");
}

json::value InfoJson(const CollectionInfo& info) {
  json::object o;
  o["status"] = "green";
  o["optimizer_status"] = "ok";
  o["points_count"] = info.points_count;
  o["indexed_vectors_count"] = info.indexed_vectors_count;
  o["segments_count"] = info.segments_count;
  json::value config = db::ConfigToJson(info.config);
  json::object& c = config.get_object();
  json::object cfg;
  cfg["params"] = json::object{{"vectors", c["vectors"]}, {"shard_number", 1}, {"replication_factor", 1},
                               {"write_consistency_factor", 1}, {"on_disk_payload", false}};
  if (auto sv = c.find("sparse_vectors"); sv != c.end()) cfg["params"].get_object()["sparse_vectors"] = sv->value();
  cfg["hnsw_config"] = c["hnsw_config"];
  cfg["optimizer_config"] = json::object{{"deleted_threshold", 0.2},      {"vacuum_min_vector_number", 1000},
                                         {"default_segment_number", 0},   {"max_segment_size", nullptr},
                                         {"memmap_threshold", nullptr},   {"indexing_threshold", 20000},
                                         {"flush_interval_sec", 5},       {"max_optimization_threads", nullptr}};
  cfg["wal_config"] = json::object{{"wal_capacity_mb", 32}, {"wal_segments_ahead", 0}};
  if (auto q = c.find("quantization_config"); q != c.end()) {
    cfg["quantization_config"] = q->value();
  } else {
    cfg["quantization_config"] = nullptr;
  }
  o["config"] = std::move(cfg);
  json::object schema;
  for (const PayloadIndexInfo& p : info.payload_schema) {
    schema[p.field] = json::object{{"data_type", p.type}, {"params", nullptr}, {"points", p.points}};
  }
  o["payload_schema"] = std::move(schema);
  return o;
}

json::value StatsJson(const CollectionStats& stats) {
  return json::object{{"points", stats.points},
                      {"tombstones", stats.tombstones},
                      {"segments", stats.segments},
                      {"indexed_vectors", stats.indexed_vectors},
                      {"unindexed_vectors", stats.unindexed_vectors},
                      {"disk_bytes", stats.disk_bytes},
                      {"memory_bytes", stats.memory_bytes},
                      {"simd", stats.simd}};
}

// The points of a query's response, each with its order_value when the query ordered by a payload value.
void AppendQueryPoints(const QueryResponse& r, const PrintOptions& o, std::string* out) {
  out->push_back('[');
  const bool ordered = !r.order_values.empty() && r.order_values.size() == r.points.size();
  for (size_t i = 0; i < r.points.size(); ++i) {
    if (i) out->push_back(',');
    const ScoredPoint& p = r.points[i];
    AppendPoint(p.id, &p.score, p.payload, p.vectors, p.sparse_vectors, o, out, ordered ? &r.order_values[i] : nullptr);
  }
  out->push_back(']');
}

void AppendQueryResponse(const QueryResponse& r, const PrintOptions& o, std::string* out) {
  out->append("{\"points\":");
  AppendQueryPoints(r, o, out);
  out->push_back('}');
}

void AppendGroupId(const GroupId& id, std::string* out) {
  if (const std::string* s = std::get_if<std::string>(&id)) {
    AppendString(*s, out);
  } else if (const uint64_t* u = std::get_if<uint64_t>(&id)) {
    AppendUint(*u, out);
  } else {
    out->append(std::to_string(std::get<int64_t>(id)));
  }
}

struct Printer {
  const PrintOptions& o;
  std::string* out;

  void operator()(bool b) const { out->append(b ? "true" : "false"); }
  void operator()(const Exists& e) const { out->append(e.exists ? "{\"exists\":true}" : "{\"exists\":false}"); }
  void operator()(const CollectionList& list) const {
    out->append("{\"collections\":[");
    for (size_t i = 0; i < list.names.size(); ++i) {
      if (i) out->push_back(',');
      out->append("{\"name\":");
      AppendString(list.names[i], out);
      out->push_back('}');
    }
    out->append("]}");
  }
  void operator()(const AliasList& list) const {
    out->append("{\"aliases\":[");
    for (size_t i = 0; i < list.aliases.size(); ++i) {
      if (i) out->push_back(',');
      out->append("{\"alias_name\":");
      AppendString(list.aliases[i].first, out);
      out->append(",\"collection_name\":");
      AppendString(list.aliases[i].second, out);
      out->push_back('}');
    }
    out->append("]}");
  }
  void operator()(const CollectionInfo& info) const { out->append(payload::ReadableJson(InfoJson(info))); }
  void operator()(const CollectionStats& stats) const { out->append(payload::ReadableJson(StatsJson(stats))); }
  void operator()(const UpdateResult& u) const { AppendUpdate(u, out); }
  void operator()(const std::vector<UpdateResult>& list) const {
    out->push_back('[');
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) out->push_back(',');
      AppendUpdate(list[i], out);
    }
    out->push_back(']');
  }
  void operator()(const Record& r) const {
    AppendPoint(r.id, nullptr, r.payload, r.vectors, r.sparse_vectors, o, out);
  }
  void operator()(const std::vector<Record>& records) const { PrintRecords(records, o, out); }
  void operator()(const ScrollResult& page) const {
    out->append("{\"points\":");
    PrintRecords(page.points, o, out);
    out->append(",\"next_page_offset\":");
    if (page.next_page_offset) {
      PrintPointId(*page.next_page_offset, o, out);
    } else {
      out->append("null");
    }
    out->push_back('}');
  }
  void operator()(const CountResult& c) const {
    out->append("{\"count\":");
    AppendUint(c.count, out);
    out->push_back('}');
  }
  void operator()(const std::vector<ScoredPoint>& points) const { PrintScoredPoints(points, o, out); }
  void operator()(const std::vector<std::vector<ScoredPoint>>& lists) const {
    out->push_back('[');
    for (size_t i = 0; i < lists.size(); ++i) {
      if (i) out->push_back(',');
      PrintScoredPoints(lists[i], o, out);
    }
    out->push_back(']');
  }
  void operator()(const QueryResponse& r) const { AppendQueryResponse(r, o, out); }
  void operator()(const std::vector<QueryResponse>& list) const {
    out->push_back('[');
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) out->push_back(',');
      AppendQueryResponse(list[i], o, out);
    }
    out->push_back(']');
  }
  void operator()(const GroupsResponse& r) const {
    out->append("{\"groups\":[");
    for (size_t i = 0; i < r.groups.size(); ++i) {
      const PointGroup& g = r.groups[i];
      if (i) out->push_back(',');
      out->append("{\"id\":");
      AppendGroupId(g.id, out);
      out->append(",\"hits\":");
      AppendQueryPoints(g.hits, o, out);
      if (g.lookup) {
        out->append(",\"lookup\":");
        AppendPoint(g.lookup->id, nullptr, g.lookup->payload, g.lookup->vectors, g.lookup->sparse_vectors, o, out);
      }
      out->push_back('}');
    }
    out->append("]}");
  }
  void operator()(const RepairReport& report) const {
    auto list = [&](const std::vector<std::string>& items) {
      out->push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out->push_back(',');
        AppendString(items[i], out);
      }
      out->push_back(']');
    };
    out->append("{\"collection\":");
    AppendString(report.collection, out);
    out->append(",\"points\":" + std::to_string(report.points) + ",\"rebuilt\":");
    list(report.rebuilt);
    out->append(",\"lost\":");
    list(report.lost);
    out->push_back('}');
  }
  void operator()(const VerifyReport& report) const {
    out->append("{\"problems\":[");
    for (size_t i = 0; i < report.problems.size(); ++i) {
      if (i) out->push_back(',');
      AppendString(report.problems[i], out);
    }
    out->append("]}");
  }
};

}  // namespace

void PrintPointId(const PointId& id, const PrintOptions& options, std::string* out) {
  if (id.is_uuid() || (options.big_ids_as_strings && id.number() > kMaxSafeInteger)) {
    out->push_back('"');
    out->append(id.ToString());
    out->push_back('"');
  } else {
    AppendUint(id.number(), out);
  }
}

void PrintScoredPoints(std::span<const ScoredPoint> points, const PrintOptions& options, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < points.size(); ++i) {
    if (i) out->push_back(',');
    AppendPoint(points[i].id, &points[i].score, points[i].payload, points[i].vectors, points[i].sparse_vectors,
                options, out);
  }
  out->push_back(']');
}

void PrintRecords(std::span<const Record> records, const PrintOptions& options, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < records.size(); ++i) {
    if (i) out->push_back(',');
    AppendPoint(records[i].id, nullptr, records[i].payload, records[i].vectors, records[i].sparse_vectors, options,
                out);
  }
  out->push_back(']');
}

void Print(const Response& response, const PrintOptions& options, std::string* out) {
  std::visit(Printer{options, out}, response);
}

std::string Print(const Response& response, const PrintOptions& options) {
  std::string out;
  Print(response, options, &out);
  return out;
}

}  // namespace quiver::api
