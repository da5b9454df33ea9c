// quiver: the command-line tool. Parses the command line by hand against each command's table of options,
// opens the embedded database (--db, else the default data folder) and runs the command.
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "quiver/api.h"

namespace quiver::cli {
namespace {

struct CommandSpec {
  const char* name;
  const char* usage;    // after "quiver <name>"
  const char* summary;  // one line
  const char* details;  // more lines, may be ""
  size_t min_args, max_args;
  OpenMode mode;
  std::vector<OptionSpec> options;
  int (*run)(Context&, const Args&);
  // When set, decides the open mode from the arguments instead of `mode`.
  OpenMode (*mode_of)(const Args&) = nullptr;
};

// request opens for writing only for operations that write.
OpenMode RequestMode(const Args& args) {
  auto op = api::FindOperation(args.positional.empty() ? "" : args.positional[0]);
  if (!op) {
    throw UsageError("unknown operation '" + (args.positional.empty() ? std::string() : args.positional[0]) +
                     "' (Qdrant's operation ids, such as search_points; see docs/cli.md)");
  }
  return api::Describe(*op).writes ? OpenMode::kWrite : OpenMode::kRead;
}

const std::vector<OptionSpec> kGlobalOptions = {
    {"db", "PATH",
     "the database folder (default: $QUIVER_DATA, else $XDG_DATA_HOME/quiver, else ~/.local/share/quiver)"},
    {"threads", "N", "threads for index builds and exact ground truth (default: one per core)"},
    {"help", nullptr, "show help"},
};

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"create",
       "NAME [--dim N] [--distance D] [options]",
       "create a collection",
       "Either --dim (with --distance, --index, --m, --ef-construct) or --config with Qdrant's "
       "create-collection\n"
       "body, e.g. '{\"vectors\": {\"size\": 4, \"distance\": \"Cosine\"}}'.",
       1,
       1,
       OpenMode::kWrite,
       {{"dim", "N", "vector dimensions (1..65536)"},
        {"distance", "D", "Cosine (default), Euclid, Dot or Manhattan"},
        {"index", "KIND", "hnsw (default) or flat"},
        {"m", "N", "HNSW links per node (default 16)"},
        {"ef-construct", "N", "HNSW build beam width (default 100)"},
        {"config", "JSON", "Qdrant's create-collection body instead of the options above"}},
       CmdCreate},
      {"list",
       "",
       "list collections (and aliases)",
       "",
       0,
       0,
       OpenMode::kRead,
       {{"json", nullptr, "print JSON"}},
       CmdList},
      {"info",
       "NAME",
       "print a collection's configuration and counts (Qdrant's collection info JSON)",
       "",
       1,
       1,
       OpenMode::kRead,
       {},
       CmdInfo},
      {"drop", "NAME", "delete a collection and its files", "", 1, 1, OpenMode::kWrite, {}, CmdDrop},
      {"import",
       "NAME FILE [options]",
       "import points from JSONL, CSV, .fvecs or .npy",
       "Formats (by extension, or --format; FILE '-' reads stdin and needs --format):\n"
       "  jsonl  one Qdrant point per line: {\"id\": 1, \"vector\": [...], \"payload\": {...}}\n"
       "  csv    a header row; column 'id' (optional), column 'vector' (a JSON array or numbers separated "
       "by\n"
       "         spaces or ';') or columns v0, v1, ...; every other column is a payload field (numbers, "
       "true/false,\n"
       "         or text; empty cells are left out)\n"
       "  fvecs  rows of [int32 dim][dim x float32]; ids are the row numbers (+ --id-start)\n"
       "  npy    a 2-D NumPy array of float32, float64, uint8 or int8 (C order); ids are the row numbers\n"
       "A missing collection is created when --create or --distance is given (dimensions from the file).\n"
       "Points are written in batches; each batch is all or nothing. On a bad record the import stops, names "
       "it,\n"
       "and keeps the batches written before it.",
       2,
       2,
       OpenMode::kBulkWrite,
       {{"format", "F", "jsonl, csv, fvecs or npy (default: from the file extension)"},
        {"create", nullptr, "create the collection if it does not exist"},
        {"distance", "D", "distance of a created collection (default Cosine)"},
        {"m", "N", "HNSW m of a created collection"},
        {"ef-construct", "N", "HNSW ef_construct of a created collection"},
        {"batch", "N", "points per write batch (default 1000)"},
        {"id-start", "N", "first id for formats without ids (default 0)"},
        {"vector-name", "NAME", "the named vector to fill (default: the unnamed vector)"},
        {"limit", "N", "import at most N points"},
        {"progress", nullptr, "show the progress bar even when stderr is not a terminal"},
        {"no-progress", nullptr, "never show the progress bar"}},
       CmdImport},
      {"search",
       "NAME (--vector JSON | --vector-file FILE | --id ID) [options]",
       "nearest neighbours of a vector",
       "The query vector comes from --vector (JSON array or numbers), --vector-file (FILE or '-' for stdin, "
       "same\n"
       "text forms), or --id (the stored vector of that point). Prints a table, or Qdrant's JSON with "
       "--json.",
       1,
       1,
       OpenMode::kRead,
       {{"vector", "V", "the query vector"},
        {"vector-file", "FILE", "read the query vector from FILE ('-' for stdin)"},
        {"id", "ID", "use the stored vector of point ID"},
        {"vector-name", "NAME", "search this named vector"},
        {"filter", "JSON",
         "Qdrant filter, e.g. '{\"must\": [{\"key\": \"city\", \"match\": {\"value\": \"Oslo\"}}]}'"},
        {"limit", "N", "how many results (default 10)"},
        {"ef", "N", "HNSW beam width"},
        {"exact", nullptr, "exact scan instead of the HNSW graph"},
        {"with-payload", nullptr, "include payloads"},
        {"with-vector", nullptr, "include vectors"},
        {"json", nullptr, "print JSON"}},
       CmdSearch},
      {"query",
       "NAME [--body JSON | --body-file FILE | --vector V | --id ID | --order-by KEY] [options]",
       "Qdrant's Query API: nearest, recommend, order_by, prefetch and fusion, groups (JSON out)",
       "With --body or --body-file, the body is Qdrant's QueryRequest (prefetch, query, using, filter, limit, ...;\n"
       "with --batch a QueryRequestBatch {\"searches\": [...]}, with --groups a QueryGroupsRequest). Without one,\n"
       "the options build it. Prints Qdrant's result: {\"points\": [...]} or {\"groups\": [...]}.",
       1,
       1,
       OpenMode::kRead,
       {{"body", "JSON", "the request body"},
        {"body-file", "FILE", "read the request body from FILE ('-' for stdin)"},
        {"batch", nullptr, "the body is {\"searches\": [...]} (query_batch_points)"},
        {"groups", nullptr, "the body is a groups request (query_points_groups)"},
        {"vector", "V", "nearest to this vector (JSON array or numbers)"},
        {"vector-file", "FILE", "nearest to the vector in FILE ('-' for stdin)"},
        {"id", "ID", "nearest to the stored vector of point ID (the point itself is left out)"},
        {"order-by", "KEY", "points in the order of a payload value"},
        {"desc", nullptr, "with --order-by: largest first"},
        {"using", "NAME", "the named vector to query"},
        {"filter", "JSON", "Qdrant filter"},
        {"limit", "N", "how many points (groups with --group-by; default 10)"},
        {"offset", "N", "skip the first N points"},
        {"exact", nullptr, "exact scan instead of the HNSW graph"},
        {"with-payload", nullptr, "include payloads"},
        {"with-vector", nullptr, "include vectors"},
        {"group-by", "KEY", "group the points by a payload value (query_points_groups)"},
        {"group-size", "N", "points per group (default 3)"}},
       CmdQuery},
      {"get",
       "NAME ID...",
       "print points by id (JSON)",
       "",
       2,
       SIZE_MAX,
       OpenMode::kRead,
       {{"with-vector", nullptr, "include vectors"}, {"no-payload", nullptr, "leave payloads out"}},
       CmdGet},
      {"scroll",
       "NAME [options]",
       "print a page of points in id order (Qdrant's scroll JSON)",
       "",
       1,
       1,
       OpenMode::kRead,
       {{"filter", "JSON", "Qdrant filter"},
        {"limit", "N", "points per page (default 10)"},
        {"offset", "ID", "first id of the page"},
        {"with-vector", nullptr, "include vectors"},
        {"no-payload", nullptr, "leave payloads out"}},
       CmdScroll},
      {"count",
       "NAME [--filter JSON]",
       "count points (matching a filter)",
       "",
       1,
       1,
       OpenMode::kRead,
       {{"filter", "JSON", "Qdrant filter"}},
       CmdCount},
      {"export",
       "NAME [--output FILE]",
       "write every point as JSONL (the import format)",
       "",
       1,
       1,
       OpenMode::kRead,
       {{"output", "FILE", "write to FILE instead of stdout"},
        {"filter", "JSON", "only points matching a filter"}},
       CmdExport},
      {"snapshot",
       "(create NAME FILE | restore NAME FILE)",
       "write a collection snapshot / restore one",
       "'create' writes a point-in-time copy of collection NAME to FILE; 'restore' creates collection NAME "
       "from\n"
       "FILE (which must not exist yet; use drop first).",
       3,
       3,
       OpenMode::kWrite,
       {},
       CmdSnapshot},
      {"alias",
       "(create ALIAS COLLECTION | delete ALIAS | rename OLD NEW)",
       "manage aliases (list shows them)",
       "An alias is another name for a collection, usable wherever a collection name is; creating an "
       "existing\n"
       "alias re-points it (as in Qdrant).",
       2,
       3,
       OpenMode::kWrite,
       {},
       CmdAlias},
      {"compact",
       "NAME",
       "merge segments, build indexes and drop deleted points",
       "",
       1,
       1,
       OpenMode::kWrite,
       {},
       CmdCompact},
      {"verify",
       "[NAME]",
       "check every checksum and index invariant (all collections without NAME)",
       "Exit code 0 when everything is intact, 5 when problems were found (each is printed).",
       0,
       1,
       OpenMode::kRead,
       {},
       CmdVerify},
      {"repair",
       "[NAME]",
       "rebuild a damaged collection from what is intact (all collections without NAME)",
       "A collection whose files are damaged is unavailable (its commands exit 5 naming the file) while the\n"
       "others work. repair rebuilds derived data (HNSW graphs, payload indexes) from the vectors and payloads,\n"
       "keeps every segment, deletion file and log record that checks out, and prints what it rebuilt and what\n"
       "was lost, by file. A healthy collection is left as it is. Exit code 0 once repaired.",
       0,
       1,
       OpenMode::kWrite,
       {},
       CmdRepair},
      {"stats",
       "[NAME]",
       "points, segments, bytes on disk, memory and the SIMD kernels in use",
       "",
       0,
       1,
       OpenMode::kRead,
       {{"json", nullptr, "print JSON"}},
       CmdStats},
      {"request",
       "OPERATION [COLLECTION] [--body JSON | --body-file FILE] [--key K]",
       "run any operation of Qdrant's REST API by its operation id (JSON in, JSON out)",
       "OPERATION is Qdrant's operation id (create_collection, upsert_points, search_points, scroll_points,\n"
       "batch_update, update_collection, ...: docs/cli.md lists them); the body is Qdrant's request body and the\n"
       "output Qdrant's \"result\" JSON. --key is the point id of get_point or the field of delete_field_index.",
       1,
       2,
       OpenMode::kRead,
       {{"body", "JSON", "the request body"},
        {"body-file", "FILE", "read the request body from FILE ('-' for stdin)"},
        {"key", "K", "the point id (get_point) or field name (delete_field_index)"}},
       CmdRequest,
       RequestMode},
      {"sync",
       "[COLLECTION...] --url URL [--api-key K] [--ca FILE] [--live]",
       "sync collections with a quiverd server",
       "Pushes what this database wrote since its last sync and pulls what the server has (docs/sync.md), for\n"
       "the collections named (default: all). Prints what moved. With --live it keeps syncing (each round\n"
       "waits up to --wait-ms for changes) until SIGINT or SIGTERM, retrying with backoff while the server\n"
       "is unreachable. The key comes from --api-key, else $QUIVER_API_KEY.",
       0,
       SIZE_MAX,
       OpenMode::kWrite,
       {{"url", "URL", "the server: http://host:port or https://host:port"},
        {"api-key", "K", "the server's API key, a tenant key or a JWT (default: $QUIVER_API_KEY)"},
        {"ca", "FILE", "https: trust the certificates in this PEM file instead of the system's"},
        {"live", nullptr, "keep syncing until SIGINT/SIGTERM"},
        {"wait-ms", "N", "with --live: how long a round waits for changes (1..25000, default 25000)"}},
       CmdSync},
      {"bench",
       "NAME --queries FILE [options]",
       "recall@k and queries per second against exact ground truth",
       "Runs the queries (.fvecs or .npy) one per call at each ef, and compares with exact ground truth "
       "computed\n"
       "from the collection's own vectors in double precision (cached in --truth FILE when given).",
       1,
       1,
       OpenMode::kRead,
       {{"queries", "FILE", "query vectors (.fvecs or .npy)"},
        {"queries-limit", "N", "use only the first N queries"},
        {"truth", "FILE", "ground truth cache (.ivecs of point ids); computed and written when missing"},
        {"k", "N", "neighbours per query (default 10)"},
        {"ef", "LIST", "comma-separated beam widths (default 10,20,40,80,160)"},
        {"reps", "N", "repetitions per ef; the median QPS is reported (default 3)"}},
       CmdBench},
  };
  return kCommands;
}

void PrintOptions(const std::vector<OptionSpec>& options, std::ostream& out) {
  for (const OptionSpec& o : options) {
    std::string left = std::string("  --") + o.name + (o.value ? std::string(" ") + o.value : "");
    if (left.size() < 26)
      left.resize(26, ' ');
    else
      left += "  ";
    out << left << o.help << "\n";
  }
}

void PrintMainHelp(std::ostream& out) {
  out << "quiver: the command-line tool of the Quiver embedded vector database\n\n"
         "usage: quiver [--db PATH] COMMAND [ARGS] [OPTIONS]\n\ncommands:\n";
  for (const CommandSpec& c : Commands()) {
    std::string name = std::string("  ") + c.name;
    name.resize(14, ' ');
    out << name << c.summary << "\n";
  }
  out << "\noptions for every command:\n";
  PrintOptions(kGlobalOptions, out);
  out << "\n'quiver COMMAND --help' describes a command. Exit codes: 0 ok, 1 error, 2 usage, 3 not found,\n"
         "4 invalid input, 5 corruption, 6 busy (locked), 7 already exists.\n";
}

void PrintCommandHelp(const CommandSpec& c, std::ostream& out) {
  out << "usage: quiver " << c.name << (c.usage[0] ? " " : "") << c.usage << "\n\n" << c.summary << ".\n";
  if (c.details[0]) out << "\n" << c.details << "\n";
  if (!c.options.empty()) {
    out << "\noptions:\n";
    PrintOptions(c.options, out);
  }
  out << "\nglobal options:\n";
  PrintOptions(kGlobalOptions, out);
}

const OptionSpec* FindOption(const CommandSpec* c, const std::string& name) {
  for (const OptionSpec& o : kGlobalOptions) {
    if (name == o.name) return &o;
  }
  if (c) {
    for (const OptionSpec& o : c->options) {
      if (name == o.name) return &o;
    }
  }
  return nullptr;
}

std::string DefaultDataFolder() {
  if (const char* q = std::getenv("QUIVER_DATA"); q && *q) return q;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/quiver";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/quiver";
  return ".quiver";
}

Status MakeDirs(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::IOError("cannot create folder '" + cur + "': " + std::strerror(errno));
      }
    }
    if (i < path.size()) cur.push_back(path[i]);
  }
  return Status::OK();
}

int Main(int argc, char** argv) {
  const CommandSpec* command = nullptr;
  Args args;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
        std::string name = a.substr(2), value;
        bool has_value = false;
        if (size_t eq = name.find('='); eq != std::string::npos) {
          value = name.substr(eq + 1);
          name.resize(eq);
          has_value = true;
        }
        const OptionSpec* spec = FindOption(command, name);
        if (!spec) {
          throw UsageError("unknown option --" + name +
                           (command ? std::string(" for '") + command->name + "'" : ""));
        }
        if (spec->value && !has_value) {
          if (i + 1 >= argc) throw UsageError("option --" + name + " needs a value (" + spec->value + ")");
          value = argv[++i];
        } else if (!spec->value && has_value) {
          throw UsageError("option --" + name + " takes no value");
        }
        args.values[name] = value;
      } else if (a == "-h") {
        args.values["help"] = "";
      } else if (!command && a != "-") {
        for (const CommandSpec& c : Commands()) {
          if (a == c.name) command = &c;
        }
        if (!command) throw UsageError("unknown command '" + a + "' (see quiver --help)");
      } else {
        args.positional.push_back(a);
      }
    }
    if (args.Has("help")) {
      if (command)
        PrintCommandHelp(*command, std::cout);
      else
        PrintMainHelp(std::cout);
      return kExitOk;
    }
    if (!command) {
      PrintMainHelp(std::cerr);
      return kExitUsage;
    }
    if (args.positional.size() < command->min_args || args.positional.size() > command->max_args) {
      throw UsageError(std::string("'") + command->name + "' takes " +
                       (command->min_args == command->max_args ? std::to_string(command->min_args)
                        : command->max_args == SIZE_MAX ? "at least " + std::to_string(command->min_args)
                                                        : std::to_string(command->min_args) + " to " +
                                                              std::to_string(command->max_args)) +
                       " argument(s), got " + std::to_string(args.positional.size()) + "; usage: quiver " +
                       command->name + " " + command->usage);
    }
    std::string path = args.Get("db", DefaultDataFolder());
    size_t threads = GetSize(args, "threads", 0);
    const OpenMode mode = command->mode_of ? command->mode_of(args) : command->mode;
    if (mode != OpenMode::kRead) {
      if (Status s = MakeDirs(path); !s.ok()) return Fail(s);
    }
    Context ctx(path, threads);
    if (Status s = ctx.Open(mode); !s.ok()) {
      if (s.IsCorruption() && std::string(command->name) == "verify") {
        // The database's own files (CURRENT, the manifest) are damaged: the first problem is the report.
        std::cout << path << ": 1 problem (found while opening; fix or restore it to check the rest)\n  "
                  << s.message() << "\n";
        std::cerr << "quiver: verify found 1 problem\n";
        return kExitCorruption;
      }
      return Fail(s, "cannot open the database in '" + path + "'");
    }
    int code = command->run(ctx, args);
    if (Status s = ctx.Close(); !s.ok() && code == kExitOk) return Fail(s, "closing the database");
    return code;
  } catch (const UsageError& e) {
    std::cerr << "quiver: " << e.message << "\n";
    return kExitUsage;
  } catch (const std::bad_alloc&) {
    std::cerr << "quiver: out of memory\n";
    return kExitError;
  } catch (const std::exception& e) {
    std::cerr << "quiver: unexpected error: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace

size_t GetSize(const Args& args, const std::string& name, size_t fallback) {
  if (!args.Has(name)) return fallback;
  const std::string v = args.Get(name);
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
    throw UsageError("option --" + name + " expects a non-negative integer, got '" + v + "'");
  }
  return std::stoull(v);
}

Context::~Context() { (void)Close(); }

Status Context::Open(OpenMode mode) {
  if (db_) return Status::OK();
  DatabaseOptions options;
  options.path = path_;
  options.read_only = mode == OpenMode::kRead;
  // Bulk writes are made durable once at the end (Close flushes); single commands sync each write.
  options.durability = mode == OpenMode::kBulkWrite ? Durability::kNone : Durability::kSync;
  // Bulk imports build indexes once at the end (import calls Optimize) instead of after every sealed segment.
  options.auto_optimize = mode != OpenMode::kBulkWrite;
  if (mode != OpenMode::kRead) {
    pool_ = std::make_unique<ThreadPool>(threads_);
    options.executor = pool_.get();
  }
  if (mode == OpenMode::kRead && !std::ifstream(path_ + "/CURRENT").good()) {
    // Nothing stored yet (or not a database folder): an empty in-memory database answers "not found".
    struct stat st;
    if (::stat(path_.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      return Status::InvalidArgument("'" + path_ + "' is not a folder");
    }
    options.path.clear();
    options.read_only = false;
  }
  QUIVER_ASSIGN_OR_RETURN(db_, Database::Open(options));
  return Status::OK();
}

Result<std::shared_ptr<Collection>> Context::GetCollection(const std::string& name) {
  auto c = db_->GetCollection(name);
  if (!c.ok() && c.status().IsNotFound()) {
    return Status::NotFound("no collection '" + name + "' in '" + path_ + "' (quiver list shows them)");
  }
  return c;
}

Status Context::Close() {
  if (!db_) return Status::OK();
  Status s = db_->Close();
  db_.reset();
  pool_.reset();
  return s;
}

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
      return kExitInvalidInput;
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kAlreadyExists:
      return kExitAlreadyExists;
    case StatusCode::kCorruption:
      return kExitCorruption;
    case StatusCode::kBusy:
      return kExitBusy;
    default:
      return kExitError;
  }
}

int Fail(const Status& s, const std::string& context) {
  std::cerr << "quiver: " << (context.empty() ? "" : context + ": ") << s.ToString() << "\n";
  return ExitCodeFor(s);
}

Result<std::string> ReadAll(const std::string& path) {
  if (path == "-") {
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return data;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read '" + path + "'");
  return ss.str();
}

Result<std::vector<float>> ParseVectorText(const std::string& text) {
  std::vector<float> out;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return Status::InvalidArgument("empty vector");
  std::string body = text;
  if (text[first] == '[') {
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec || !v.is_array())
      return Status::InvalidArgument("vector: malformed JSON array (" + ec.message() + ")");
    for (const auto& x : v.get_array()) {
      if (!x.is_number())
        return Status::InvalidArgument("vector: element " + std::to_string(out.size()) + " is not a number");
      out.push_back(static_cast<float>(x.to_number<double>(ec)));
    }
    return out;
  }
  for (char& ch : body) {
    if (ch == ',' || ch == ';') ch = ' ';
  }
  std::istringstream in(body);
  std::string tok;
  while (in >> tok) {
    char* end = nullptr;
    errno = 0;
    float f = std::strtof(tok.c_str(), &end);
    if (end == tok.c_str() || *end != '\0') {
      return Status::InvalidArgument("vector: '" + tok + "' (element " + std::to_string(out.size()) +
                                     ") is not a number");
    }
    out.push_back(f);
  }
  return out;
}

}  // namespace quiver::cli

int main(int argc, char** argv) { return quiver::cli::Main(argc, argv); }
