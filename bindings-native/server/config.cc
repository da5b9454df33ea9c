#include "config.h"

#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

namespace quiver::server {
namespace {

namespace json = boost::json;

using Setter = std::function<Status(Config&, std::string_view)>;

struct Setting {
  const char* name;  // file key; the flag and variable are made from it
  const char* arg;   // nullptr for a boolean flag
  const char* help;
  Setter set;
};

Status Bad(std::string_view name, std::string_view text, std::string_view expected) {
  return Status::InvalidArgument(std::string(name) + ": '" + std::string(text) + "' is not " +
                                 std::string(expected));
}

template <typename T>
Setter Uint(T Config::*field, const char* name, uint64_t min, uint64_t max) {
  return [=](Config& c, std::string_view text) -> Status {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
      return Bad(name, text, "an integer in " + std::to_string(min) + ".." + std::to_string(max));
    }
    c.*field = static_cast<T>(v);
    return Status::OK();
  };
}

Status ParseDouble(std::string_view name, std::string_view text, double min, double* out) {
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno != 0 || !(v >= min) || v > 1e12) {
    return Bad(name, text, "a number >= " + std::to_string(min));
  }
  *out = v;
  return Status::OK();
}

Setter Double(double Config::*field, const char* name, double min) {
  return [=](Config& c, std::string_view text) { return ParseDouble(name, text, min, &(c.*field)); };
}

Setter String(std::string Config::*field) {
  return [=](Config& c, std::string_view text) {
    c.*field = std::string(text);
    return Status::OK();
  };
}

Status ParseBool(std::string_view name, std::string_view text, bool* out) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") {
    *out = true;
  } else if (text == "false" || text == "0" || text == "no" || text == "off") {
    *out = false;
  } else {
    return Bad(name, text, "true or false");
  }
  return Status::OK();
}

Setter Bool(bool Config::*field, const char* name) {
  return [=](Config& c, std::string_view text) { return ParseBool(name, text, &(c.*field)); };
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {"config", "FILE", "a JSON config file (settings below by their file keys, plus \"tenants\")",
       String(&Config::config_file)},
      {"data", "DIR", "the database folder; snapshots are kept in DIR/snapshots (required)",
       String(&Config::data)},
      {"host", "ADDR", "address to listen on (default 127.0.0.1)", String(&Config::host)},
      {"port", "N", "port (default 6333; 0 picks a free one, printed in the first log line)",
       Uint(&Config::port, "port", 0, 65535)},
      {"allow_insecure", nullptr, "listen beyond loopback without an API key",
       Bool(&Config::allow_insecure, "allow_insecure")},
      {"api_key", "KEY", "the read-write key (api-key header or Authorization: Bearer)",
       String(&Config::api_key)},
      {"read_only_api_key", "KEY", "a key for reads only", String(&Config::read_only_api_key)},
      {"jwt_rbac", nullptr, "accept JWTs (HS256, signed with the api key) as Qdrant does",
       Bool(&Config::jwt_rbac, "jwt_rbac")},
      {"tls_cert", "FILE", "PEM certificate chain: serve HTTPS (with tls_key)", String(&Config::tls_cert)},
      {"tls_key", "FILE", "PEM private key", String(&Config::tls_key)},
      {"cors_origins", "LIST", "comma-separated origins allowed by CORS (\"*\" for any; default none)",
       [](Config& c, std::string_view text) {
         c.cors_origins.clear();
         std::stringstream in{std::string(text)};
         for (std::string item; std::getline(in, item, ',');) {
           if (!item.empty()) c.cors_origins.push_back(item);
         }
         return Status::OK();
       }},
      {"threads", "N", "threads serving connections and running requests (default: one per hardware thread)",
       Uint(&Config::threads, "threads", 0, 1024)},
      {"offload_workers", "N",
       "run requests on a separate pool of N threads, the serving threads doing I/O only "
       "(default 0: requests run where their connection is served)",
       Uint(&Config::offload_workers, "offload_workers", 0, 1024)},
      {"max_connections", "N", "open connections at most; more get 503 (default 1024)",
       Uint(&Config::max_connections, "max_connections", 1, 1000000)},
      {"max_body_mb", "MB", "largest request body (default 32)",
       Double(&Config::max_body_mb, "max_body_mb", 0.001)},
      {"max_upload_mb", "MB", "largest snapshot upload (default 4096)",
       Double(&Config::max_upload_mb, "max_upload_mb", 0.001)},
      {"max_json_depth", "N", "deepest nesting of a JSON body (default 64, at most 96)",
       Uint(&Config::max_json_depth, "max_json_depth", 2, 96)},
      {"max_header_kb", "KB", "largest request head (default 16)",
       Uint(&Config::max_header_kb, "max_header_kb", 1, 1024)},
      {"header_timeout_ms", "MS", "from a request's first byte to the end of its headers (default 10000)",
       Uint(&Config::header_timeout_ms, "header_timeout_ms", 1, 86400000)},
      {"body_timeout_ms", "MS", "to read a request body (default 60000)",
       Uint(&Config::body_timeout_ms, "body_timeout_ms", 1, 86400000)},
      {"idle_timeout_ms", "MS", "an idle keep-alive connection is closed after this (default 60000)",
       Uint(&Config::idle_timeout_ms, "idle_timeout_ms", 1, 86400000)},
      {"shutdown_delay_ms", "MS",
       "on SIGTERM, /readyz fails this long before the listener closes (default 0)",
       Uint(&Config::shutdown_delay_ms, "shutdown_delay_ms", 0, 3600000)},
      {"drain_timeout_ms", "MS", "on SIGTERM, in-flight requests get this long to finish (default 30000)",
       Uint(&Config::drain_timeout_ms, "drain_timeout_ms", 0, 3600000)},
      {"log_requests", nullptr, "one JSON line per request on standard output (default true)",
       Bool(&Config::log_requests, "log_requests")},
      {"durability", "MODE", "sync (default: a write is durable when answered), batched (~100 ms) or none",
       [](Config& c, std::string_view text) -> Status {
         if (text != "sync" && text != "batched" && text != "none")
           return Bad("durability", text, "sync, batched or none");
         c.durability = std::string(text);
         return Status::OK();
       }},
      {"sync_retention_days", "DAYS",
       "sync: deleted points and keys are kept this long; older pushed writes are stale (default 30)",
       Uint(&Config::sync_retention_days, "sync_retention_days", 1, 36500)},
      {"sync_gc_interval_s", "S",
       "sync: how often the tombstones past the retention are purged (default 3600)",
       Uint(&Config::sync_gc_interval_s, "sync_gc_interval_s", 1, 86400 * 30)},
  };
  return kSettings;
}

std::string FlagName(std::string_view name) {
  std::string f = "--";
  for (char ch : name) f.push_back(ch == '_' ? '-' : ch);
  return f;
}

std::string EnvName(std::string_view name) {
  std::string e = "QUIVERD_";
  for (char ch : name)
    e.push_back(static_cast<char>(ch == '-' ? '_' : std::toupper(static_cast<unsigned char>(ch))));
  return e;
}

const Setting* FindSetting(std::string_view name) {
  for (const Setting& s : Settings()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

// ---- The config file ----

Result<std::string> ScalarText(const json::value& v, std::string_view where) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::bool_:
      return std::string(v.get_bool() ? "true" : "false");
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return json::serialize(v);
    default:
      return Status::InvalidArgument(std::string(where) + ": expected a string, number or boolean");
  }
}

Status ReadLimits(const json::object& o, std::string_view where, TenantLimits* limits) {
  for (const auto& kv : o) {
    const std::string key(kv.key());
    const std::string at = std::string(where) + "." + key;
    double d = 0;
    if (key != "max_collections" && key != "max_points" && key != "requests_per_second" && key != "burst")
      continue;
    if (!kv.value().is_number()) return Status::InvalidArgument(at + ": expected a number");
    QUIVER_RETURN_IF_ERROR(ParseDouble(at, json::serialize(kv.value()), 0, &d));
    if (key == "max_collections") limits->max_collections = static_cast<uint64_t>(d);
    if (key == "max_points") limits->max_points = static_cast<uint64_t>(d);
    if (key == "requests_per_second") limits->requests_per_second = d;
    if (key == "burst") limits->burst = d;
  }
  return Status::OK();
}

Status CheckKeys(const json::object& o, std::string_view where,
                 std::initializer_list<std::string_view> keys) {
  for (const auto& kv : o) {
    bool known = false;
    for (std::string_view k : keys) known |= kv.key() == k;
    if (!known)
      return Status::InvalidArgument(std::string(where) + ": unknown key '" + std::string(kv.key()) + "'");
  }
  return Status::OK();
}

Status ReadTenants(const json::value& v, Config* c) {
  const json::array* list = v.if_array();
  if (list == nullptr) return Status::InvalidArgument("tenants: expected an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where = "tenants[" + std::to_string(i) + "]";
    const json::object* o = (*list)[i].if_object();
    if (o == nullptr) return Status::InvalidArgument(where + ": expected an object");
    QUIVER_RETURN_IF_ERROR(CheckKeys(*o, where,
                                     {"name", "api_key", "jwt_subject", "read_only", "max_collections",
                                      "max_points", "requests_per_second", "burst"}));
    TenantConfig t;
    auto text = [&](const char* key, std::string* out) -> Status {
      if (const json::value* x = o->if_contains(key)) {
        if (!x->is_string()) return Status::InvalidArgument(where + "." + key + ": expected a string");
        *out = std::string(x->get_string());
      }
      return Status::OK();
    };
    QUIVER_RETURN_IF_ERROR(text("name", &t.name));
    QUIVER_RETURN_IF_ERROR(text("api_key", &t.api_key));
    QUIVER_RETURN_IF_ERROR(text("jwt_subject", &t.jwt_subject));
    if (const json::value* x = o->if_contains("read_only")) {
      if (!x->is_bool()) return Status::InvalidArgument(where + ".read_only: expected true or false");
      t.read_only = x->get_bool();
    }
    QUIVER_RETURN_IF_ERROR(ReadLimits(*o, where, &t.limits));
    if (t.name.empty()) return Status::InvalidArgument(where + ".name: a tenant needs a name");
    if (t.api_key.empty() == t.jwt_subject.empty()) {
      return Status::InvalidArgument(where + ": give exactly one of api_key and jwt_subject");
    }
    c->tenants.push_back(std::move(t));
  }
  return Status::OK();
}

Status ReadFile(const std::string& path, Config* c) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("config file " + path + " cannot be opened");
  std::stringstream buffer;
  buffer << in.rdbuf();
  boost::system::error_code ec;
  json::value root = json::parse(buffer.str(), ec);
  if (ec) return Status::InvalidArgument("config file " + path + ": malformed JSON (" + ec.message() + ")");
  const json::object* o = root.if_object();
  if (o == nullptr) return Status::InvalidArgument("config file " + path + ": expected a JSON object");
  for (const auto& kv : *o) {
    const std::string key(kv.key());
    const std::string where = path + ": " + key;
    if (key == "tenants") {
      QUIVER_RETURN_IF_ERROR(ReadTenants(kv.value(), c).WithContext(path));
      continue;
    }
    if (key == "jwt_default_limits") {
      const json::object* lo = kv.value().if_object();
      if (lo == nullptr) return Status::InvalidArgument(where + ": expected an object");
      QUIVER_RETURN_IF_ERROR(
          CheckKeys(*lo, where, {"max_collections", "max_points", "requests_per_second", "burst"}));
      QUIVER_RETURN_IF_ERROR(ReadLimits(*lo, where, &c->jwt_default_limits));
      continue;
    }
    const Setting* s = FindSetting(key);
    if (s == nullptr || key == "config") return Status::InvalidArgument(path + ": unknown key '" + key + "'");
    std::string text;
    if (key == "cors_origins" && kv.value().is_array()) {
      for (const json::value& item : kv.value().get_array()) {
        if (!item.is_string()) return Status::InvalidArgument(where + ": expected strings");
        if (!text.empty()) text += ",";
        text += std::string(item.get_string());
      }
    } else {
      QUIVER_ASSIGN_OR_RETURN(text, ScalarText(kv.value(), where));
    }
    QUIVER_RETURN_IF_ERROR(s->set(*c, text).WithContext(path));
  }
  return Status::OK();
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

Status Validate(Config* c) {
  if (c->data.empty()) return Status::InvalidArgument("no data folder: pass --data DIR (or QUIVERD_DATA)");
  if (c->tls_cert.empty() != c->tls_key.empty()) {
    return Status::InvalidArgument("TLS needs both tls_cert and tls_key");
  }
  bool any_key = !c->api_key.empty() || !c->read_only_api_key.empty();
  for (const TenantConfig& t : c->tenants) any_key |= !t.api_key.empty();
  if (!any_key && !IsLoopback(c->host) && !c->allow_insecure) {
    return Status::InvalidArgument(
        "refusing to listen on " + c->host +
        " without an API key: set api_key, or pass --allow-insecure if an open server "
        "is what you want");
  }
  if (c->jwt_rbac && c->api_key.empty())
    return Status::InvalidArgument("jwt_rbac needs api_key (the signing secret)");
  for (const TenantConfig& t : c->tenants) {
    if (!t.jwt_subject.empty() && !c->jwt_rbac) {
      return Status::InvalidArgument("tenant " + t.name + " names a jwt_subject but jwt_rbac is off");
    }
  }
  return Status::OK();
}

}  // namespace

Result<Config> LoadConfig(int argc, char** argv, bool* help) {
  *help = false;
  // Flags are read first (to find --config), applied last.
  std::vector<std::pair<const Setting*, std::string>> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return Config{};
    }
    if (arg.rfind("--", 0) != 0)
      return Status::InvalidArgument("unexpected argument '" + arg + "' (see --help)");
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    for (char& ch : name) ch = ch == '-' ? '_' : ch;
    const Setting* s = FindSetting(name);
    if (s == nullptr) return Status::InvalidArgument("unknown flag '" + arg + "' (see --help)");
    if (!has_value) {
      if (s->arg == nullptr) {
        value = "true";
      } else {
        if (i + 1 >= argc) return Status::InvalidArgument(FlagName(s->name) + " needs a value");
        value = argv[++i];
      }
    }
    flags.emplace_back(s, value);
  }
  Config c;
  std::string file;
  if (const char* e = std::getenv("QUIVERD_CONFIG")) file = e;
  for (auto& [s, v] : flags) {
    if (std::string_view(s->name) == "config") file = v;
  }
  if (!file.empty()) {
    QUIVER_RETURN_IF_ERROR(ReadFile(file, &c));
    c.config_file = file;
  }
  for (const Setting& s : Settings()) {
    if (const char* e = std::getenv(EnvName(s.name).c_str())) {
      QUIVER_RETURN_IF_ERROR(s.set(c, e).WithContext(EnvName(s.name)));
    }
  }
  for (auto& [s, v] : flags) QUIVER_RETURN_IF_ERROR(s->set(c, v).WithContext(FlagName(s->name)));
  QUIVER_RETURN_IF_ERROR(Validate(&c));
  return c;
}

std::string ConfigUsage() {
  std::string out =
      "usage: quiverd --data DIR [options]\n\n"
      "quiverd serves a Quiver database over Qdrant's REST API. Every option is also an environment variable "
      "and a\n"
      "config-file key; flags override the environment, which overrides the file. See docs/server.md.\n\n";
  for (const Setting& s : Settings()) {
    std::string flag = FlagName(s.name);
    if (s.arg) {
      flag += ' ';
      flag += s.arg;
    }
    if (flag.size() < 26) flag.resize(26, ' ');
    out += "  " + flag + " " + s.help + "\n";
    out += std::string(30, ' ') + "[" + EnvName(s.name) + ", file key \"" + s.name + "\"]\n";
  }
  return out;
}

}  // namespace quiver::server
