// quiver query: Qdrant's Query API (/points/query, /points/query/batch, /points/query/groups) from the command
// line, with a body (--body, --body-file) or one built from options (--vector, --id, --order-by, --group-by, ...).
// The result is Qdrant's "result" JSON.
#include <boost/json.hpp>
#include <iostream>

#include "cli.h"
#include "quiver/api.h"

namespace quiver::cli {
namespace {

namespace json = boost::json;

// Options that build the body; none of them may come with --body.
constexpr const char* kBodyOptions[] = {"vector", "vector-file", "id",     "using",        "order-by",
                                        "desc",   "filter",      "limit",  "offset",       "exact",
                                        "with-payload", "with-vector", "group-by", "group-size"};

Result<json::value> ParseJsonOption(const std::string& text, const std::string& what) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Status::InvalidArgument(what + ": malformed JSON (" + ec.message() + ")");
  return v;
}

// The body from the options.
Result<std::string> BuildBody(const Args& args, bool groups) {
  json::object body;
  const int sources = int(args.Has("vector")) + int(args.Has("vector-file")) + int(args.Has("id")) +
                      int(args.Has("order-by"));
  if (sources > 1) throw UsageError("give at most one of --vector, --vector-file, --id and --order-by");
  if (args.Has("vector") || args.Has("vector-file")) {
    std::string text = args.Get("vector");
    if (args.Has("vector-file")) {
      QUIVER_ASSIGN_OR_RETURN(text, ReadAll(args.Get("vector-file")));
    }
    auto v = ParseVectorText(text);
    if (!v.ok()) return v.status().WithContext(args.Has("vector") ? "--vector" : args.Get("vector-file"));
    json::array a;
    for (float x : *v) a.emplace_back(static_cast<double>(x));
    body["query"] = std::move(a);
  } else if (args.Has("id")) {
    auto id = PointId::Parse(args.Get("id"));
    if (!id.ok()) return id.status().WithContext("--id");
    if (id->is_uuid()) {
      body["query"] = id->ToString();
    } else {
      body["query"] = id->number();
    }
  } else if (args.Has("order-by")) {
    json::object o{{"key", args.Get("order-by")}};
    if (args.Has("desc")) o["direction"] = "desc";
    body["query"] = json::object{{"order_by", std::move(o)}};
  }
  if (args.Has("desc") && !args.Has("order-by")) throw UsageError("--desc goes with --order-by");
  if (args.Has("using")) body["using"] = args.Get("using");
  if (args.Has("filter")) {
    QUIVER_ASSIGN_OR_RETURN(body["filter"], ParseJsonOption(args.Get("filter"), "--filter"));
  }
  if (args.Has("limit")) body["limit"] = GetSize(args, "limit", 10);
  if (args.Has("offset")) {
    if (groups) throw UsageError("--offset does not go with --group-by");
    body["offset"] = GetSize(args, "offset", 0);
  }
  if (args.Has("exact")) body["params"] = json::object{{"exact", true}};
  if (args.Has("with-payload")) body["with_payload"] = true;
  if (args.Has("with-vector")) body["with_vector"] = true;
  if (groups) {
    body["group_by"] = args.Get("group-by");
    if (args.Has("group-size")) body["group_size"] = GetSize(args, "group-size", 3);
  } else if (args.Has("group-size")) {
    throw UsageError("--group-size goes with --group-by");
  }
  return json::serialize(body);
}

}  // namespace

int CmdQuery(Context& ctx, const Args& args) {
  const int modes = int(args.Has("batch")) + int(args.Has("groups")) + int(args.Has("group-by"));
  if (modes > 1) throw UsageError("give at most one of --batch, --groups and --group-by");
  const bool has_body = args.Has("body") || args.Has("body-file");
  if (args.Has("body") && args.Has("body-file")) throw UsageError("give --body or --body-file, not both");
  if (has_body) {
    for (const char* option : kBodyOptions) {
      if (args.Has(option)) throw UsageError(std::string("--") + option + " does not go with a body; put it in the body");
    }
  } else if (args.Has("batch") || args.Has("groups")) {
    throw UsageError(std::string(args.Has("batch") ? "--batch" : "--groups") + " needs --body or --body-file");
  }
  api::Operation op = api::Operation::kQueryPoints;
  if (args.Has("batch")) op = api::Operation::kQueryBatch;
  if (args.Has("groups") || args.Has("group-by")) op = api::Operation::kQueryGroups;
  std::string body;
  if (args.Has("body")) {
    body = args.Get("body");
  } else if (args.Has("body-file")) {
    auto text = ReadAll(args.Get("body-file"));
    if (!text.ok()) return Fail(text.status());
    body = std::move(*text);
  } else {
    auto built = BuildBody(args, op == api::Operation::kQueryGroups);
    if (!built.ok()) return Fail(built.status());
    body = std::move(*built);
  }
  auto r = api::Call(ctx.db(), op, {args.positional[0], {}, {}}, body);
  if (!r.ok()) return Fail(r.status(), std::string(api::Describe(op).name));
  std::cout << api::Print(*r) << "\n";
  return kExitOk;
}

}  // namespace quiver::cli
