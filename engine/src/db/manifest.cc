#include "db/manifest.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "base/section_file.h"
#include "db/config_json.h"
#include "payload/json_parse.h"

namespace quiver::db {
namespace {

constexpr uint32_t kTagManifest = SectionTag("MNFT");

boost::json::value U64(uint64_t v) { return boost::json::value(v); }

Result<uint64_t> GetU64(const boost::json::object& o, std::string_view key, const std::string& what) {
  auto it = o.find(key);
  if (it != o.end()) {
    if (auto p = it->value().if_uint64()) return *p;
    if (auto p = it->value().if_int64(); p && *p >= 0) return static_cast<uint64_t>(*p);
  }
  return Status::Corruption(what + ": manifest field '" + std::string(key) + "' is missing or not an unsigned integer");
}

Result<std::string> GetString(const boost::json::object& o, std::string_view key, const std::string& what) {
  auto it = o.find(key);
  if (it != o.end() && it->value().is_string()) return std::string(it->value().get_string());
  return Status::Corruption(what + ": manifest field '" + std::string(key) + "' is missing or not a string");
}

Result<const boost::json::array*> GetArray(const boost::json::object& o, std::string_view key, const std::string& what) {
  auto it = o.find(key);
  if (it != o.end() && it->value().is_array()) return &it->value().get_array();
  return Status::Corruption(what + ": manifest field '" + std::string(key) + "' is missing or not an array");
}

bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// "feed": {"seq": n, "min_valid": n, "checkpoints": [[seq, ms], ...], "meta": {...}}
boost::json::object EncodeFeedEntry(const FeedEntry& f) {
  boost::json::object o;
  o["seq"] = U64(f.seq);
  o["min_valid"] = U64(f.min_valid);
  boost::json::array checkpoints;
  for (const auto& [seq, ms] : f.checkpoints) checkpoints.push_back(boost::json::array{U64(seq), U64(ms)});
  o["checkpoints"] = std::move(checkpoints);
  o["meta"] = f.meta;
  return o;
}

Result<FeedEntry> DecodeFeedEntry(const boost::json::value& v, const std::string& what) {
  const boost::json::object* o = v.if_object();
  if (!o) return Status::Corruption(what + ": feed is not an object");
  FeedEntry f;
  QUIVER_ASSIGN_OR_RETURN(f.seq, GetU64(*o, "seq", what));
  QUIVER_ASSIGN_OR_RETURN(f.min_valid, GetU64(*o, "min_valid", what));
  QUIVER_ASSIGN_OR_RETURN(const boost::json::array* checkpoints, GetArray(*o, "checkpoints", what));
  for (const boost::json::value& cv : *checkpoints) {
    const boost::json::array* pair = cv.if_array();
    // Boost.JSON reads small non-negative integers as int64.
    uint64_t seq_v = 0, ms_v = 0;
    bool ok = pair && pair->size() == 2;
    if (ok) {
      auto get = [](const boost::json::value& x, uint64_t* out) {
        if (auto p = x.if_uint64()) return *out = *p, true;
        if (auto p = x.if_int64(); p && *p >= 0) return *out = static_cast<uint64_t>(*p), true;
        return false;
      };
      ok = get((*pair)[0], &seq_v) && get((*pair)[1], &ms_v);
    }
    if (!ok) return Status::Corruption(what + ": bad feed checkpoint");
    f.checkpoints.emplace_back(seq_v, ms_v);
  }
  auto meta = o->find("meta");
  if (meta == o->end() || !meta->value().is_object()) return Status::Corruption(what + ": feed meta is not an object");
  f.meta = meta->value().get_object();
  return f;
}

}  // namespace

std::string ManifestFileName(uint64_t number) { return "MANIFEST-" + std::to_string(number); }
std::string WalFileName(uint32_t collection, uint64_t number) {
  return "wal-" + std::to_string(collection) + "-" + std::to_string(number) + ".log";
}
std::string SegmentFileName(uint32_t collection, uint64_t number) {
  return "seg-" + std::to_string(collection) + "-" + std::to_string(number) + ".qvs";
}
std::string DeletionFileName(uint32_t collection, uint64_t number) {
  return "del-" + std::to_string(collection) + "-" + std::to_string(number) + ".qvd";
}

ParsedFileName ParseFileName(std::string_view name) {
  ParsedFileName out;
  if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
    out.kind = ParsedFileName::Kind::kTemp;
    return out;
  }
  if (name.rfind("MANIFEST-", 0) == 0) {
    if (ParseNumber(name.substr(9), &out.number)) out.kind = ParsedFileName::Kind::kManifest;
    return out;
  }
  struct Form {
    std::string_view prefix, suffix;
    ParsedFileName::Kind kind;
  };
  for (const Form& f : {Form{"wal-", ".log", ParsedFileName::Kind::kWal},
                        Form{"seg-", ".qvs", ParsedFileName::Kind::kSegment},
                        Form{"del-", ".qvd", ParsedFileName::Kind::kDeletions}}) {
    if (name.size() <= f.prefix.size() + f.suffix.size() || name.rfind(f.prefix, 0) != 0 ||
        name.substr(name.size() - f.suffix.size()) != f.suffix) {
      continue;
    }
    std::string_view mid = name.substr(f.prefix.size(), name.size() - f.prefix.size() - f.suffix.size());
    size_t dash = mid.find('-');
    uint64_t collection = 0;
    if (dash == std::string_view::npos || !ParseNumber(mid.substr(0, dash), &collection) || collection > UINT32_MAX ||
        !ParseNumber(mid.substr(dash + 1), &out.number)) {
      return out;
    }
    out.collection = static_cast<uint32_t>(collection);
    out.kind = f.kind;
    return out;
  }
  return out;
}

std::string EncodeManifest(const Manifest& m) {
  boost::json::object root;
  root["format"] = kManifestFormatVersion;
  root["replica_id"] = U64(m.replica_id);
  root["clock"] = U64(m.clock);
  root["next_file"] = U64(m.next_file);
  root["next_collection"] = m.next_collection;
  boost::json::array collections;
  for (const CollectionEntry& c : m.collections) {
    boost::json::object o;
    o["id"] = c.id;
    o["name"] = c.name;
    o["config"] = ConfigToJson(c.config);
    boost::json::array indexes;
    for (const auto& [field, type] : c.payload_indexes) indexes.push_back(boost::json::array{field, type});
    o["payload_indexes"] = std::move(indexes);
    o["wal_start"] = U64(c.wal_start);
    o["next_sequence"] = U64(c.next_sequence);
    boost::json::array segments;
    for (const SegmentEntry& s : c.segments) {
      segments.push_back(boost::json::object{{"file", U64(s.file)}, {"deletions", U64(s.deletions)}, {"slots", U64(s.slots)}});
    }
    o["segments"] = std::move(segments);
    if (!c.feed.empty()) o["feed"] = EncodeFeedEntry(c.feed);
    collections.push_back(std::move(o));
  }
  root["collections"] = std::move(collections);
  boost::json::object aliases;
  for (const auto& [alias, target] : m.aliases) aliases[alias] = target;
  root["aliases"] = std::move(aliases);
  if (!m.sync.empty()) root["sync"] = m.sync;
  SectionFileWriter w(FileKind::kManifest);
  w.Add(kTagManifest, boost::json::serialize(root));
  return w.Finish();
}

Result<Manifest> DecodeManifest(std::span<const uint8_t> bytes, const std::string& what) {
  QUIVER_ASSIGN_OR_RETURN(auto reader, SectionFileReader::Open(bytes, FileKind::kManifest, what));
  QUIVER_ASSIGN_OR_RETURN(auto text, reader.Get(kTagManifest));
  boost::json::error_code ec;
  boost::json::value v = payload::ParseJson(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), ec);
  if (ec || !v.is_object()) return Status::Corruption(what + ": manifest is not a JSON object");
  const boost::json::object& root = v.get_object();
  Manifest m;
  QUIVER_ASSIGN_OR_RETURN(uint64_t format, GetU64(root, "format", what));
  if (format != kManifestFormatVersion && format != kManifestFormatVersionNoFeed) {
    return Status::Corruption(what + ": unsupported manifest format " + std::to_string(format));
  }
  QUIVER_ASSIGN_OR_RETURN(m.replica_id, GetU64(root, "replica_id", what));
  QUIVER_ASSIGN_OR_RETURN(m.clock, GetU64(root, "clock", what));
  QUIVER_ASSIGN_OR_RETURN(m.next_file, GetU64(root, "next_file", what));
  QUIVER_ASSIGN_OR_RETURN(uint64_t next_collection, GetU64(root, "next_collection", what));
  if (next_collection > UINT32_MAX) return Status::Corruption(what + ": next_collection out of range");
  m.next_collection = static_cast<uint32_t>(next_collection);
  QUIVER_ASSIGN_OR_RETURN(const boost::json::array* collections, GetArray(root, "collections", what));
  for (const boost::json::value& cv : *collections) {
    const boost::json::object* co = cv.if_object();
    if (!co) return Status::Corruption(what + ": a collection entry is not an object");
    CollectionEntry c;
    QUIVER_ASSIGN_OR_RETURN(uint64_t id, GetU64(*co, "id", what));
    if (id == 0 || id >= m.next_collection) return Status::Corruption(what + ": collection id " + std::to_string(id) + " out of range");
    c.id = static_cast<uint32_t>(id);
    QUIVER_ASSIGN_OR_RETURN(c.name, GetString(*co, "name", what));
    auto config_it = co->find("config");
    if (config_it == co->end()) return Status::Corruption(what + ": collection " + c.name + " has no config");
    auto config = ConfigFromJson(config_it->value(), "config");
    if (!config.ok()) return Status::Corruption(what + ": collection " + c.name + ": " + std::string(config.status().message()));
    c.config = std::move(*config);
    QUIVER_ASSIGN_OR_RETURN(const boost::json::array* indexes, GetArray(*co, "payload_indexes", what));
    for (const boost::json::value& iv : *indexes) {
      const boost::json::array* pair = iv.if_array();
      if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
        return Status::Corruption(what + ": bad payload index entry in collection " + c.name);
      }
      c.payload_indexes.emplace_back(std::string((*pair)[0].get_string()), std::string((*pair)[1].get_string()));
    }
    QUIVER_ASSIGN_OR_RETURN(c.wal_start, GetU64(*co, "wal_start", what));
    QUIVER_ASSIGN_OR_RETURN(c.next_sequence, GetU64(*co, "next_sequence", what));
    QUIVER_ASSIGN_OR_RETURN(const boost::json::array* segments, GetArray(*co, "segments", what));
    for (const boost::json::value& sv : *segments) {
      const boost::json::object* so = sv.if_object();
      if (!so) return Status::Corruption(what + ": a segment entry is not an object");
      SegmentEntry s;
      QUIVER_ASSIGN_OR_RETURN(s.file, GetU64(*so, "file", what));
      QUIVER_ASSIGN_OR_RETURN(s.deletions, GetU64(*so, "deletions", what));
      QUIVER_ASSIGN_OR_RETURN(s.slots, GetU64(*so, "slots", what));
      if (s.file == 0 || s.file >= m.next_file || s.deletions >= m.next_file) {
        return Status::Corruption(what + ": segment file number out of range in collection " + c.name);
      }
      c.segments.push_back(s);
    }
    if (c.wal_start >= m.next_file) return Status::Corruption(what + ": wal_start out of range in collection " + c.name);
    if (auto feed = co->find("feed"); feed != co->end()) {
      QUIVER_ASSIGN_OR_RETURN(c.feed, DecodeFeedEntry(feed->value(), what + ": collection " + c.name));
    }
    m.collections.push_back(std::move(c));
  }
  auto aliases = root.find("aliases");
  if (aliases == root.end() || !aliases->value().is_object()) return Status::Corruption(what + ": aliases missing");
  for (const auto& kv : aliases->value().get_object()) {
    if (!kv.value().is_string()) return Status::Corruption(what + ": alias target is not a string");
    m.aliases[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  // What the alias operations keep true (an alias names a collection that exists and is not itself a collection's
  // name): a damaged manifest that breaks it would make a lookup by that name answer for the wrong collection.
  const auto named = [&](const std::string& name) {
    return std::any_of(m.collections.begin(), m.collections.end(), [&](const auto& c) { return c.name == name; });
  };
  for (const auto& [alias, target] : m.aliases) {
    if (named(alias)) return Status::Corruption(what + ": alias '" + alias + "' is also a collection's name");
    if (!named(target)) {
      return Status::Corruption(what + ": alias '" + alias + "' names collection '" + target +
                                "', which does not exist");
    }
  }
  if (auto sync = root.find("sync"); sync != root.end()) {
    if (!sync->value().is_object()) return Status::Corruption(what + ": sync is not an object");
    m.sync = sync->value().get_object();
  }
  return m;
}

}  // namespace quiver::db
