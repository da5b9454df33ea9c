// quiverd's Service without sockets (bindings-native/server: quiverd_core): requests in, replies out, over an
// in-memory database. The HTTP end-to-end suite is server_test (Node); these are the cases found by fuzz_http.
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "quiver/database.h"
#include "service.h"

namespace quiver::server {
namespace {

namespace fs = std::filesystem;

struct Server {
  fs::path folder = fs::temp_directory_path() / ("quiver-service-test-" + std::to_string(::getpid()));
  Config config;
  std::unique_ptr<Database> db;
  std::unique_ptr<Service> service;

  Server() {
    fs::create_directories(folder);
    config.data = folder.string();
    config.log_requests = false;
    db = std::move(*Database::Open(DatabaseOptions{}));
    service = std::make_unique<Service>(config, *db);
  }
  ~Server() {
    service.reset();
    std::error_code ec;
    fs::remove_all(folder, ec);
  }

  HttpReply Get(std::string target) {
    HttpRequest r;
    r.method = "GET";
    r.target = std::move(target);
    return service->Handle(r);
  }
};

bool IsJson(const std::string& text) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  return !ec;
}

TEST_CASE("service: an error quoting a path of invalid UTF-8 is still JSON", "[server][fuzz]") {
  Server s;
  // fuzz_http: "GET \xf0readyz" answered 404 with the path's byte copied into the JSON text.
  for (const std::string target : {"/\xf0readyz", "/collections/\xff\xfe", "/collections/%ff", "/\xc3("}) {
    HttpReply reply = s.Get(target);
    CAPTURE(target, reply.body);
    CHECK(reply.status == 404);
    CHECK(IsJson(reply.body));
  }
  // Well-formed UTF-8 is quoted as it is.
  HttpReply reply = s.Get("/caf\xc3\xa9");
  CHECK(reply.body.find("caf\xc3\xa9") != std::string::npos);
  CHECK(ErrorBody("a \xff b", 0) == "{\"status\":{\"error\":\"a \xef\xbf\xbd b\"},\"time\":0.000000}");
}

}  // namespace
}  // namespace quiver::server
