// The quiver command-line tool: shared pieces (arguments, exit codes, opening the database, output helpers).
// Each command is a function taking the parsed arguments; commands live in commands.cc, import.cc, query.cc,
// bench.cc and sync.cc.
//
// Thread safety: single-threaded apart from the engine's own thread pool.
#ifndef QUIVER_CLI_CLI_H_
#define QUIVER_CLI_CLI_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quiver/collection.h"
#include "quiver/database.h"
#include "quiver/status.h"
#include "quiver/thread_pool.h"

namespace quiver::cli {

// Exit codes (docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // any other failure (I/O, internal)
  kExitUsage = 2,          // bad command line
  kExitNotFound = 3,       // collection, point or file not found
  kExitInvalidInput = 4,   // bad input data: malformed JSON, wrong dimension, NaN, bad file format
  kExitCorruption = 5,     // stored data is damaged (also: verify found problems)
  kExitBusy = 6,           // another process holds the database's writer lock
  kExitAlreadyExists = 7,  // creating something that exists
};

struct OptionSpec {
  const char* name;   // without the leading "--"
  const char* value;  // placeholder of the value ("N", "FILE"), or nullptr for a flag
  const char* help;
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // options with a value; flags map to ""

  bool Has(const std::string& name) const { return values.count(name) != 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
};

class UsageError {
 public:
  explicit UsageError(std::string m) : message(std::move(m)) {}
  std::string message;
};

// Parses a non-negative integer option; throws UsageError naming the option otherwise.
size_t GetSize(const Args& args, const std::string& name, size_t fallback);

// How a command opens the database.
enum class OpenMode { kRead, kWrite, kBulkWrite };

// The database the command works on: --db PATH, else $QUIVER_DATA, else $XDG_DATA_HOME/quiver, else
// ~/.local/share/quiver.
class Context {
 public:
  Context(std::string path, size_t threads) : path_(std::move(path)), threads_(threads) {}
  ~Context();
  const std::string& path() const { return path_; }
  // Opens the database (once). kRead opens read-only, so it takes no lock.
  Status Open(OpenMode mode);
  Database& db() { return *db_; }
  Result<std::shared_ptr<Collection>> GetCollection(const std::string& name);
  // Flushes and closes (waiting for background index builds).
  Status Close();

 private:
  std::string path_;
  size_t threads_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Database> db_;
};

// Prints "quiver: <context>: <message>" to stderr and returns the exit code for the status.
int Fail(const Status& s, const std::string& context = "");
int ExitCodeFor(const Status& s);

// Reads a whole file ("-" for stdin).
Result<std::string> ReadAll(const std::string& path);

// Parses a vector from text: a JSON array, or numbers separated by spaces, commas, semicolons or newlines.
Result<std::vector<float>> ParseVectorText(const std::string& text);

// The collection configuration from create's options (--dim or dim_from_file, --distance, --index, --m,
// --ef-construct, --vector-name, or --config JSON).
Result<CollectionConfig> ConfigFromArgs(const Args& args, uint32_t dim_from_file);

// Commands. Each returns an exit code.
int CmdCreate(Context& ctx, const Args& args);
int CmdList(Context& ctx, const Args& args);
int CmdInfo(Context& ctx, const Args& args);
int CmdDrop(Context& ctx, const Args& args);
int CmdImport(Context& ctx, const Args& args);
int CmdSearch(Context& ctx, const Args& args);
int CmdGet(Context& ctx, const Args& args);
int CmdScroll(Context& ctx, const Args& args);
int CmdCount(Context& ctx, const Args& args);
int CmdExport(Context& ctx, const Args& args);
int CmdSnapshot(Context& ctx, const Args& args);
int CmdCompact(Context& ctx, const Args& args);
int CmdAlias(Context& ctx, const Args& args);
int CmdVerify(Context& ctx, const Args& args);
int CmdRepair(Context& ctx, const Args& args);
int CmdStats(Context& ctx, const Args& args);
int CmdBench(Context& ctx, const Args& args);
int CmdRequest(Context& ctx, const Args& args);
int CmdQuery(Context& ctx, const Args& args);
int CmdSync(Context& ctx, const Args& args);

}  // namespace quiver::cli

#endif  // QUIVER_CLI_CLI_H_
