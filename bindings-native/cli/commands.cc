// The quiver commands other than import and bench: collections, search, get, scroll, count, export,
// snapshots, compaction, verify and stats.
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "quiver/api.h"

namespace quiver::cli {
namespace {

std::string HumanBytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  std::ostringstream s;
  s << std::fixed << std::setprecision(u ? 1 : 0) << v << " " << units[u];
  return s.str();
}

// Reads the collection or prints why not; returns null then (with *code set).
std::shared_ptr<Collection> Open(Context& ctx, const std::string& name, int* code) {
  auto c = ctx.GetCollection(name);
  if (!c.ok()) {
    *code = Fail(c.status());
    return nullptr;
  }
  return *c;
}

Result<Distance> ParseDistanceOption(const Args& args) {
  std::string d = args.Get("distance", "Cosine");
  // Accept any case: cosine, euclid, dot, manhattan (also "l2", "euclidean", "ip").
  std::string lower;
  for (char ch : d) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  if (lower == "cosine") return Distance::kCosine;
  if (lower == "euclid" || lower == "euclidean" || lower == "l2") return Distance::kEuclid;
  if (lower == "dot" || lower == "ip") return Distance::kDot;
  if (lower == "manhattan" || lower == "l1") return Distance::kManhattan;
  return Status::InvalidArgument("--distance: unknown distance '" + d + "' (Cosine, Euclid, Dot, Manhattan)");
}

Result<std::optional<PointId>> ParseOptionalId(const Args& args, const std::string& name) {
  if (!args.Has(name)) return std::optional<PointId>();
  auto id = PointId::Parse(args.Get(name));
  if (!id.ok()) return id.status().WithContext("--" + name);
  return std::optional<PointId>(*id);
}

}  // namespace

Result<CollectionConfig> ConfigFromArgs(const Args& args, uint32_t dim_from_file) {
  if (args.Has("config")) return api::ParseCollectionConfig(args.Get("config"));
  CollectionConfig config;
  VectorParams params;
  params.size = static_cast<uint32_t>(args.Has("dim") ? GetSize(args, "dim", 0) : dim_from_file);
  if (params.size == 0)
    return Status::InvalidArgument("give the vector size with --dim N (or --config JSON)");
  QUIVER_ASSIGN_OR_RETURN(params.distance, ParseDistanceOption(args));
  std::string index = args.Get("index", "hnsw");
  if (index == "flat")
    params.index = IndexKind::kFlat;
  else if (index != "hnsw")
    return Status::InvalidArgument("--index: expected hnsw or flat, got '" + index + "'");
  config.hnsw.m = static_cast<uint32_t>(GetSize(args, "m", config.hnsw.m));
  config.hnsw.ef_construct = static_cast<uint32_t>(GetSize(args, "ef-construct", config.hnsw.ef_construct));
  config.vectors[args.Get("vector-name")] = params;
  return config;
}

int CmdCreate(Context& ctx, const Args& args) {
  const std::string& name = args.positional[0];
  auto config = ConfigFromArgs(args, 0);
  if (!config.ok()) return Fail(config.status());
  if (Status s = ctx.db().CreateCollection(name, *config); !s.ok()) return Fail(s);
  std::cout << "created collection '" << name << "'\n";
  return kExitOk;
}

int CmdList(Context& ctx, const Args& args) {
  std::vector<std::string> names = ctx.db().ListCollections();
  std::sort(names.begin(), names.end());
  auto aliases = ctx.db().ListAliases();
  if (args.Has("json")) {
    boost::json::array list, alias_list;
    for (const auto& n : names) list.push_back(boost::json::object{{"name", n}});
    for (const auto& [a, c] : aliases)
      alias_list.push_back(boost::json::object{{"alias_name", a}, {"collection_name", c}});
    std::cout << boost::json::serialize(boost::json::object{{"collections", list}, {"aliases", alias_list}})
              << "\n";
    return kExitOk;
  }
  for (const auto& n : names) {
    auto c = ctx.db().GetCollection(n);
    if (!c.ok()) {
      if (c.status().IsCorruption()) std::cout << n << "\tunavailable (damaged files; see quiver verify, quiver repair)\n";
      continue;
    }
    CollectionInfo info = (*c)->Info();
    std::cout << n << "\t" << info.points_count << " points";
    for (const auto& [vname, params] : info.config.vectors) {
      std::cout << "\t" << (vname.empty() ? "" : vname + ": ") << params.size << "-d "
                << DistanceName(params.distance);
    }
    std::cout << "\n";
  }
  for (const auto& [a, c] : aliases) std::cout << a << " -> " << c << "\t(alias)\n";
  return kExitOk;
}

int CmdInfo(Context& ctx, const Args& args) {
  int code = kExitOk;
  auto c = Open(ctx, args.positional[0], &code);
  if (!c) return code;
  std::cout << api::Print(api::Response(c->Info())) << "\n";
  return kExitOk;
}

int CmdDrop(Context& ctx, const Args& args) {
  const std::string& name = args.positional[0];
  if (Status s = ctx.db().DeleteCollection(name); !s.ok()) return Fail(s);
  std::cout << "dropped collection '" << name << "'\n";
  return kExitOk;
}

int CmdSearch(Context& ctx, const Args& args) {
  int code = kExitOk;
  auto c = Open(ctx, args.positional[0], &code);
  if (!c) return code;
  int sources = int(args.Has("vector")) + int(args.Has("vector-file")) + int(args.Has("id"));
  if (sources != 1) throw UsageError("search needs exactly one of --vector, --vector-file or --id");
  SearchRequest req;
  req.vector_name = args.Get("vector-name");
  if (args.Has("vector")) {
    auto v = ParseVectorText(args.Get("vector"));
    if (!v.ok()) return Fail(v.status(), "--vector");
    req.vector = std::move(*v);
  } else if (args.Has("vector-file")) {
    auto text = ReadAll(args.Get("vector-file"));
    if (!text.ok()) return Fail(text.status());
    auto v = ParseVectorText(*text);
    if (!v.ok()) return Fail(v.status(), args.Get("vector-file"));
    req.vector = std::move(*v);
  } else {
    auto id = PointId::Parse(args.Get("id"));
    if (!id.ok()) return Fail(id.status(), "--id");
    std::vector<PointId> ids{*id};
    auto recs = c->Get(ids, PayloadSelector::None(), VectorSelector::All());
    if (!recs.ok()) return Fail(recs.status());
    if (recs->empty())
      return Fail(Status::NotFound("no point " + id->ToString() + " in '" + c->name() + "'"));
    auto it = (*recs)[0].vectors.find(req.vector_name);
    if (it == (*recs)[0].vectors.end()) {
      return Fail(Status::NotFound("point " + id->ToString() + " has no vector '" + req.vector_name + "'"));
    }
    req.vector = it->second;
  }
  req.filter = args.Get("filter");
  req.limit = GetSize(args, "limit", 10);
  if (args.Has("ef")) req.hnsw_ef = GetSize(args, "ef", 0);
  req.exact = args.Has("exact");
  req.with_payload = args.Has("with-payload") ? PayloadSelector::All() : PayloadSelector::None();
  req.with_vector = args.Has("with-vector") ? VectorSelector::All() : VectorSelector::None();
  auto hits = c->Search(req);
  if (!hits.ok()) return Fail(hits.status());
  if (args.Has("json")) {
    std::cout << api::Print(api::Response(std::move(*hits))) << "\n";
    return kExitOk;
  }
  std::cout << std::left << std::setw(6) << "rank" << std::setw(38) << "id" << std::setw(14) << "score";
  if (args.Has("with-payload")) std::cout << "payload";
  std::cout << "\n";
  for (size_t i = 0; i < hits->size(); ++i) {
    const ScoredPoint& p = (*hits)[i];
    std::ostringstream score;
    score << std::setprecision(6) << p.score;
    std::cout << std::left << std::setw(6) << (i + 1) << std::setw(38) << p.id.ToString() << std::setw(14)
              << score.str();
    if (args.Has("with-payload")) std::cout << p.payload.value_or("{}");
    if (args.Has("with-vector")) {
      std::string line;
      api::PrintScoredPoints({&p, 1}, {}, &line);
      std::cout << "  " << line;
    }
    std::cout << "\n";
  }
  return kExitOk;
}

int CmdGet(Context& ctx, const Args& args) {
  int code = kExitOk;
  auto c = Open(ctx, args.positional[0], &code);
  if (!c) return code;
  std::vector<PointId> ids;
  for (size_t i = 1; i < args.positional.size(); ++i) {
    auto id = PointId::Parse(args.positional[i]);
    if (!id.ok()) return Fail(id.status());
    ids.push_back(*id);
  }
  auto recs = c->Get(ids, args.Has("no-payload") ? PayloadSelector::None() : PayloadSelector::All(),
                     args.Has("with-vector") ? VectorSelector::All() : VectorSelector::None());
  if (!recs.ok()) return Fail(recs.status());
  std::cout << api::Print(api::Response(*recs)) << "\n";
  if (recs->size() < ids.size()) {
    std::cerr << "quiver: " << (ids.size() - recs->size()) << " of " << ids.size() << " ids not found\n";
    return kExitNotFound;
  }
  return kExitOk;
}

int CmdScroll(Context& ctx, const Args& args) {
  int code = kExitOk;
  auto c = Open(ctx, args.positional[0], &code);
  if (!c) return code;
  ScrollRequest req;
  req.filter = args.Get("filter");
  req.limit = GetSize(args, "limit", 10);
  auto offset = ParseOptionalId(args, "offset");
  if (!offset.ok()) return Fail(offset.status());
  req.offset = *offset;
  req.with_payload = args.Has("no-payload") ? PayloadSelector::None() : PayloadSelector::All();
  req.with_vector = args.Has("with-vector") ? VectorSelector::All() : VectorSelector::None();
  auto page = c->Scroll(req);
  if (!page.ok()) return Fail(page.status());
  std::cout << api::Print(api::Response(std::move(*page))) << "\n";
  return kExitOk;
}

int CmdCount(Context& ctx, const Args& args) {
  int code = kExitOk;
  auto c = Open(ctx, args.positional[0], &code);
  if (!c) return code;
  auto n = c->Count(args.Get("filter"));
  if (!n.ok()) return Fail(n.status());
  std::cout << *n << "\n";
  return kExitOk;
}

int CmdExport(Context& ctx, const Args& args) {
  int code = kExitOk;
  auto c = Open(ctx, args.positional[0], &code);
  if (!c) return code;
  std::ofstream file;
  std::ostream* out = &std::cout;
  const std::string path = args.Get("output");
  if (!path.empty() && path != "-") {
    file.open(path, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(Status::IOError("cannot create '" + path + "'"));
    out = &file;
  }
  ScrollRequest req;
  req.filter = args.Get("filter");
  req.limit = 1000;
  req.with_payload = PayloadSelector::All();
  req.with_vector = VectorSelector::All();
  size_t written = 0;
  while (true) {
    auto page = c->Scroll(req);
    if (!page.ok()) return Fail(page.status());
    for (const Record& r : page->points) {
      std::string line;
      api::PrintRecords({&r, 1}, {}, &line);  // "[{...}]"
      out->write(line.data() + 1, static_cast<std::streamsize>(line.size() - 2));
      out->put('\n');
      ++written;
    }
    if (!page->next_page_offset) break;
    req.offset = page->next_page_offset;
  }
  out->flush();
  if (!*out) return Fail(Status::IOError("writing the export failed"));
  if (out != &std::cout) std::cerr << "exported " << written << " points to " << path << "\n";
  return kExitOk;
}

int CmdSnapshot(Context& ctx, const Args& args) {
  const std::string& action = args.positional[0];
  const std::string& name = args.positional[1];
  const std::string& path = args.positional[2];
  if (action == "create") {
    int code = kExitOk;
    auto c = Open(ctx, name, &code);
    if (!c) return code;
    auto bytes = c->CreateSnapshot();
    if (!bytes.ok()) return Fail(bytes.status());
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
      out.flush();
      if (!out) {
        std::remove(tmp.c_str());
        return Fail(Status::IOError("cannot write '" + tmp + "'"));
      }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      return Fail(Status::IOError("cannot rename to '" + path + "'"));
    std::cout << "wrote snapshot of '" << name << "' (" << bytes->size() << " bytes) to " << path << "\n";
    return kExitOk;
  }
  if (action == "restore") {
    auto bytes = ReadAll(path);
    if (!bytes.ok()) return Fail(bytes.status());
    if (Status s = ctx.db().RestoreSnapshot(name, *bytes); !s.ok()) return Fail(s, path);
    std::cout << "restored collection '" << name << "' from " << path << "\n";
    return kExitOk;
  }
  throw UsageError("snapshot: expected 'create' or 'restore', got '" + action + "'");
}

int CmdAlias(Context& ctx, const Args& args) {
  const std::string& action = args.positional[0];
  auto need = [&](size_t n) {
    if (args.positional.size() != n + 1) {
      throw UsageError("alias " + action + " takes " + std::to_string(n) + " argument(s)");
    }
  };
  Status s;
  if (action == "create") {
    need(2);
    s = ctx.db().CreateAlias(args.positional[1], args.positional[2]);
  } else if (action == "delete") {
    need(1);
    s = ctx.db().DeleteAlias(args.positional[1]);
  } else if (action == "rename") {
    need(2);
    s = ctx.db().RenameAlias(args.positional[1], args.positional[2]);
  } else {
    throw UsageError("alias: expected 'create', 'delete' or 'rename', got '" + action + "'");
  }
  if (!s.ok()) return Fail(s);
  std::cout << "alias " << action << ": ok\n";
  return kExitOk;
}

int CmdCompact(Context& ctx, const Args& args) {
  int code = kExitOk;
  auto c = Open(ctx, args.positional[0], &code);
  if (!c) return code;
  CollectionStats before = c->Stats();
  if (Status s = c->Optimize(); !s.ok()) return Fail(s);
  CollectionStats after = c->Stats();
  std::cout << "compacted '" << c->name() << "': " << before.segments << " -> " << after.segments
            << " segments, " << HumanBytes(before.disk_bytes) << " -> " << HumanBytes(after.disk_bytes)
            << " on disk\n";
  return kExitOk;
}

int CmdVerify(Context& ctx, const Args& args) {
  std::vector<std::string> names;
  if (args.positional.empty())
    names = ctx.db().ListCollections();
  else
    names.push_back(args.positional[0]);
  size_t problems = 0;
  for (const std::string& n : names) {
    int code = kExitOk;
    if (auto got = ctx.db().GetCollection(n); !got.ok() && got.status().IsCorruption()) {
      // Damaged when the database opened: the collection is unavailable until `quiver repair`.
      std::cout << n << ": unavailable\n  " << got.status().message() << "\n";
      ++problems;
      continue;
    }
    auto c = Open(ctx, n, &code);
    if (!c) return code;
    auto found = c->Verify();
    if (!found.ok()) return Fail(found.status(), "verify '" + n + "'");
    if (found->empty()) {
      std::cout << n << ": ok (" << c->Stats().points << " points)\n";
    } else {
      std::cout << n << ": " << found->size() << " problem(s)\n";
      for (const std::string& p : *found) std::cout << "  " << p << "\n";
    }
    problems += found->size();
  }
  if (problems) {
    std::cerr << "quiver: verify found " << problems << " problem(s)\n";
    return kExitCorruption;
  }
  return kExitOk;
}

int CmdRepair(Context& ctx, const Args& args) {
  std::vector<std::string> names;
  if (args.positional.empty())
    names = ctx.db().ListCollections();
  else
    names.push_back(args.positional[0]);
  size_t lost = 0;
  for (const std::string& n : names) {
    auto report = ctx.db().Repair(n);
    if (!report.ok()) return Fail(report.status(), "repair '" + n + "'");
    if (report->rebuilt.empty() && report->lost.empty()) {
      std::cout << n << ": ok, nothing to repair (" << report->points << " points)\n";
      continue;
    }
    std::cout << n << ": repaired, " << report->points << " points\n";
    for (const std::string& r : report->rebuilt) std::cout << "  rebuilt: " << r << "\n";
    for (const std::string& l : report->lost) std::cout << "  lost: " << l << "\n";
    lost += report->lost.size();
  }
  if (lost) std::cerr << "quiver: repair could not salvage " << lost << " part(s); each is listed above\n";
  return kExitOk;
}

int CmdStats(Context& ctx, const Args& args) {
  std::vector<std::string> names;
  if (args.positional.empty())
    names = ctx.db().ListCollections();
  else
    names.push_back(args.positional[0]);
  std::sort(names.begin(), names.end());
  boost::json::object all;
  for (const std::string& n : names) {
    int code = kExitOk;
    auto c = Open(ctx, n, &code);
    if (!c) return code;
    CollectionStats s = c->Stats();
    if (args.Has("json")) {
      all[n] = boost::json::parse(api::Print(api::Response(s)));
      continue;
    }
    std::cout << n << "\n"
              << "  points             " << s.points << "\n"
              << "  deleted (kept)     " << s.tombstones << "\n"
              << "  segments           " << s.segments << "\n"
              << "  indexed vectors    " << s.indexed_vectors << "\n"
              << "  unindexed vectors  " << s.unindexed_vectors << "\n"
              << "  bytes on disk      " << s.disk_bytes << " (" << HumanBytes(s.disk_bytes) << ")\n"
              << "  memory             " << s.memory_bytes << " (" << HumanBytes(s.memory_bytes) << ")\n"
              << "  SIMD kernels       " << s.simd << "\n";
  }
  if (args.Has("json"))
    std::cout << boost::json::serialize(all) << "\n";
  else if (names.empty())
    std::cout << "no collections in " << ctx.path() << "\n";
  return kExitOk;
}

int CmdRequest(Context& ctx, const Args& args) {
  auto op = api::FindOperation(args.positional[0]);
  if (!op) throw UsageError("unknown operation '" + args.positional[0] + "'");
  if (args.Has("body") && args.Has("body-file")) throw UsageError("give --body or --body-file, not both");
  std::string body = args.Get("body");
  if (args.Has("body-file")) {
    auto text = ReadAll(args.Get("body-file"));
    if (!text.ok()) return Fail(text.status());
    body = std::move(*text);
  }
  const std::string collection = args.positional.size() > 1 ? args.positional[1] : "";
  const std::string key = args.Get("key");
  auto r = api::Call(ctx.db(), *op, {collection, key, key}, body);
  if (!r.ok()) return Fail(r.status(), std::string(api::Describe(*op).name));
  std::cout << api::Print(*r) << "\n";
  return kExitOk;
}

}  // namespace quiver::cli
