#include "db/config_json.h"

#include <boost/json.hpp>

#include "db/collection_core.h"

namespace quiver::db {
namespace {

boost::json::object HnswToJson(const HnswConfig& h) {
  return {{"m", h.m}, {"ef_construct", h.ef_construct}, {"full_scan_threshold", h.full_scan_threshold_kb}};
}

boost::json::object QuantizationToJson(const ScalarQuantization& q) {
  return {{"scalar", {{"type", "int8"}, {"quantile", q.quantile}, {"always_ram", q.always_ram}}}};
}

boost::json::object ParamsToJson(const VectorParams& p) {
  boost::json::object o{{"size", p.size}, {"distance", std::string(DistanceName(p.distance))}};
  if (p.index == IndexKind::kFlat) o["index"] = "flat";
  if (p.hnsw) o["hnsw_config"] = HnswToJson(*p.hnsw);
  if (p.quantization) o["quantization_config"] = QuantizationToJson(*p.quantization);
  return o;
}

Status Bad(const std::string& path, const std::string& why) { return Status::InvalidArgument(path + ": " + why); }

boost::json::object SparseToJson(const SparseVectorParams& p) {
  boost::json::object o;
  boost::json::object index;
  if (p.full_scan_threshold) index["full_scan_threshold"] = *p.full_scan_threshold;
  if (p.on_disk) index["on_disk"] = *p.on_disk;
  if (!index.empty()) o["index"] = std::move(index);
  if (p.modifier == SparseModifier::kIdf) o["modifier"] = "idf";
  return o;
}

Result<uint32_t> ReadUint(const boost::json::value& v, const std::string& path, uint64_t max) {
  if (auto p = v.if_int64(); p && *p >= 0 && uint64_t(*p) <= max) return static_cast<uint32_t>(*p);
  if (auto p = v.if_uint64(); p && *p <= max) return static_cast<uint32_t>(*p);
  return Bad(path, "expected an integer from 0 to " + std::to_string(max));
}

Status CheckKeys(const boost::json::object& o, std::initializer_list<std::string_view> allowed, const std::string& path) {
  for (const auto& kv : o) {
    bool ok = false;
    for (std::string_view a : allowed) ok |= kv.key() == a;
    if (!ok) return Bad(path, "unknown field '" + std::string(kv.key()) + "'");
  }
  return Status::OK();
}

Result<HnswConfig> HnswFromJson(const boost::json::value& v, const std::string& path, HnswConfig base) {
  const boost::json::object* o = v.if_object();
  if (!o) return Bad(path, "expected an object");
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"m", "ef_construct", "full_scan_threshold", "on_disk", "max_indexing_threads", "payload_m"}, path));
  if (auto it = o->find("m"); it != o->end()) {
    QUIVER_ASSIGN_OR_RETURN(base.m, ReadUint(it->value(), path + ".m", 1u << 20));
  }
  if (auto it = o->find("ef_construct"); it != o->end()) {
    QUIVER_ASSIGN_OR_RETURN(base.ef_construct, ReadUint(it->value(), path + ".ef_construct", 1u << 20));
  }
  if (auto it = o->find("full_scan_threshold"); it != o->end()) {
    QUIVER_ASSIGN_OR_RETURN(base.full_scan_threshold_kb, ReadUint(it->value(), path + ".full_scan_threshold", 1u << 30));
  }
  return base;
}

// {"scalar": {"type": "int8", "quantile": 0.99, "always_ram": true}}; null means none.
Result<std::optional<ScalarQuantization>> QuantizationFromJson(const boost::json::value& v, const std::string& path) {
  if (v.is_null()) return std::optional<ScalarQuantization>();
  const boost::json::object* o = v.if_object();
  if (!o) return Bad(path, "expected an object");
  if (o->contains("product") || o->contains("binary")) {
    return Bad(path, "only scalar quantization is supported (\"scalar\": {\"type\": \"int8\"})");
  }
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"scalar"}, path));
  auto scalar = o->find("scalar");
  if (scalar == o->end()) return Bad(path, "missing 'scalar'");
  const std::string sp = path + ".scalar";
  const boost::json::object* so = scalar->value().if_object();
  if (!so) return Bad(sp, "expected an object");
  QUIVER_RETURN_IF_ERROR(CheckKeys(*so, {"type", "quantile", "always_ram"}, sp));
  auto type = so->find("type");
  if (type == so->end()) return Bad(sp, "missing 'type'");
  if (!type->value().is_string() || type->value().get_string() != "int8") return Bad(sp + ".type", "expected \"int8\"");
  ScalarQuantization q;
  if (auto it = so->find("quantile"); it != so->end() && !it->value().is_null()) {
    if (!it->value().is_number()) return Bad(sp + ".quantile", "expected a number from 0.5 to 1");
    q.quantile = it->value().to_number<double>();
    if (!(q.quantile >= 0.5 && q.quantile <= 1.0)) return Bad(sp + ".quantile", "expected a number from 0.5 to 1");
  }
  if (auto it = so->find("always_ram"); it != so->end() && !it->value().is_null()) {
    if (!it->value().is_bool()) return Bad(sp + ".always_ram", "expected true or false");
    q.always_ram = it->value().get_bool();
  }
  return std::optional<ScalarQuantization>(q);
}

// {"index": {"full_scan_threshold", "on_disk", "datatype"}, "modifier": "idf" | "none"}; null is the defaults.
Result<SparseVectorParams> SparseFromJson(const boost::json::value& v, const std::string& path) {
  SparseVectorParams p;
  if (v.is_null()) return p;
  const boost::json::object* o = v.if_object();
  if (!o) return Bad(path, "expected an object");
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"index", "modifier"}, path));
  if (auto it = o->find("index"); it != o->end() && !it->value().is_null()) {
    const std::string ip = path + ".index";
    const boost::json::object* io = it->value().if_object();
    if (!io) return Bad(ip, "expected an object");
    QUIVER_RETURN_IF_ERROR(CheckKeys(*io, {"full_scan_threshold", "on_disk", "datatype"}, ip));
    if (auto t = io->find("full_scan_threshold"); t != io->end() && !t->value().is_null()) {
      QUIVER_ASSIGN_OR_RETURN(p.full_scan_threshold, ReadUint(t->value(), ip + ".full_scan_threshold", 1u << 30));
    }
    if (auto d = io->find("on_disk"); d != io->end() && !d->value().is_null()) {
      if (!d->value().is_bool()) return Bad(ip + ".on_disk", "expected true or false");
      p.on_disk = d->value().get_bool();
    }
    if (auto d = io->find("datatype"); d != io->end() && !d->value().is_null()) {
      const boost::json::string* s = d->value().if_string();
      if (!s) return Bad(ip + ".datatype", "expected \"float32\", \"float16\" or \"uint8\"");
      if (*s != "float32") {
        return Status::NotSupported(ip + ".datatype: sparse values are stored as float32 only");
      }
    }
  }
  if (auto it = o->find("modifier"); it != o->end() && !it->value().is_null()) {
    const boost::json::string* s = it->value().if_string();
    if (s && *s == "idf") {
      p.modifier = SparseModifier::kIdf;
    } else if (s && *s == "none") {
      p.modifier = SparseModifier::kNone;
    } else {
      return Bad(path + ".modifier", "expected \"none\" or \"idf\"");
    }
  }
  return p;
}

Result<VectorParams> ParamsFromJson(const boost::json::value& v, const std::string& path) {
  const boost::json::object* o = v.if_object();
  if (!o) return Bad(path, "expected an object");
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"size", "distance", "index", "hnsw_config", "on_disk", "datatype", "quantization_config", "multivector_config"}, path));
  VectorParams p;
  auto size = o->find("size");
  if (size == o->end()) return Bad(path, "missing 'size'");
  QUIVER_ASSIGN_OR_RETURN(p.size, ReadUint(size->value(), path + ".size", 1u << 31));
  auto distance = o->find("distance");
  if (distance == o->end() || !distance->value().is_string()) return Bad(path + ".distance", "expected one of Cosine, Euclid, Dot, Manhattan");
  auto d = ParseDistance(std::string_view(distance->value().get_string()));
  if (!d.ok()) return Bad(path + ".distance", std::string(d.status().message()));
  p.distance = *d;
  if (auto it = o->find("index"); it != o->end()) {
    const boost::json::string* s = it->value().if_string();
    if (s && *s == "flat") {
      p.index = IndexKind::kFlat;
    } else if (s && *s == "hnsw") {
      p.index = IndexKind::kHnsw;
    } else {
      return Bad(path + ".index", "expected \"hnsw\" or \"flat\"");
    }
  }
  if (auto it = o->find("hnsw_config"); it != o->end()) {
    QUIVER_ASSIGN_OR_RETURN(p.hnsw, HnswFromJson(it->value(), path + ".hnsw_config", HnswConfig{}));
  }
  if (auto it = o->find("quantization_config"); it != o->end()) {
    QUIVER_ASSIGN_OR_RETURN(p.quantization, QuantizationFromJson(it->value(), path + ".quantization_config"));
  }
  return p;
}

}  // namespace

boost::json::value ConfigToJson(const CollectionConfig& config) {
  boost::json::object out;
  auto unnamed = config.vectors.find(std::string(kDefaultVector));
  if (unnamed != config.vectors.end()) {
    out["vectors"] = ParamsToJson(unnamed->second);
  } else {
    boost::json::object named;
    for (const auto& [name, params] : config.vectors) named[name] = ParamsToJson(params);
    out["vectors"] = std::move(named);
  }
  if (!config.sparse_vectors.empty()) {
    boost::json::object sparse;
    for (const auto& [name, params] : config.sparse_vectors) sparse[name] = SparseToJson(params);
    out["sparse_vectors"] = std::move(sparse);
  }
  out["hnsw_config"] = HnswToJson(config.hnsw);
  if (config.quantization) out["quantization_config"] = QuantizationToJson(*config.quantization);
  return out;
}

Result<CollectionConfig> ConfigFromJson(const boost::json::value& json, std::string_view path_view) {
  const std::string path(path_view);
  const boost::json::object* o = json.if_object();
  if (!o) return Bad(path, "expected an object");
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"vectors", "hnsw_config", "sparse_vectors", "shard_number", "replication_factor", "write_consistency_factor", "on_disk_payload", "optimizers_config", "wal_config", "quantization_config", "init_from", "sharding_method"}, path));
  CollectionConfig config;
  if (auto it = o->find("sparse_vectors"); it != o->end() && !it->value().is_null()) {
    const boost::json::object* so = it->value().if_object();
    if (!so) return Bad(path + ".sparse_vectors", "expected an object");
    for (const auto& kv : *so) {
      QUIVER_ASSIGN_OR_RETURN(config.sparse_vectors[std::string(kv.key())],
                              SparseFromJson(kv.value(), path + ".sparse_vectors." + std::string(kv.key())));
    }
  }
  if (auto it = o->find("hnsw_config"); it != o->end()) {
    QUIVER_ASSIGN_OR_RETURN(config.hnsw, HnswFromJson(it->value(), path + ".hnsw_config", HnswConfig{}));
  }
  if (auto it = o->find("quantization_config"); it != o->end()) {
    QUIVER_ASSIGN_OR_RETURN(config.quantization, QuantizationFromJson(it->value(), path + ".quantization_config"));
  }
  auto vectors = o->find("vectors");
  if (vectors == o->end() && config.sparse_vectors.empty()) return Bad(path, "missing 'vectors'");
  static const boost::json::value kNoVectors = boost::json::object();
  const boost::json::value& vectors_value = vectors == o->end() ? kNoVectors : vectors->value();
  const boost::json::object* vo = vectors_value.if_object();
  if (!vo) return Bad(path + ".vectors", "expected an object");
  if (vo->contains("size") || vo->contains("distance")) {
    QUIVER_ASSIGN_OR_RETURN(config.vectors[std::string(kDefaultVector)], ParamsFromJson(vectors_value, path + ".vectors"));
  } else {
    for (const auto& kv : *vo) {
      QUIVER_ASSIGN_OR_RETURN(config.vectors[std::string(kv.key())],
                              ParamsFromJson(kv.value(), path + ".vectors." + std::string(kv.key())));
    }
  }
  Status s = ValidateConfig(config);
  if (!s.ok()) return Bad(path, std::string(s.message()));
  return config;
}

}  // namespace quiver::db
