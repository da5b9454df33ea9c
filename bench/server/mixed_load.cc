// A mixed read and write load on a running quiverd, for sanitizer runs rather than figures: the benchmark's
// load generator (load_client.cc, closed-loop keep-alive connections) cycles through upserts, deletes,
// payload merges and overwrites, gets, searches (plain and filtered), counts and scrolls on one small
// collection, so quiverd's serving threads run writes and reads on it at once while its background merges
// run.
//
//   mixed_load --port PORT [--seconds 30] [--connections 8]
//
// Creates (or recreates) the collection "mixed_load" (8 dimensions, cosine), runs the load, and prints one
// line: requests answered, answered 200, failed. Exits 1 if any request failed or none was answered.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "load_client.h"

namespace {

using quiver::bench::LoadSpec;
using quiver::bench::RawRequest;
using quiver::bench::RunLoad;

constexpr int kDim = 8;
constexpr int kIds = 400;
const std::string kPath = "/collections/mixed_load";

std::string Arg(int argc, char** argv, const std::string& key, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + key) return argv[i + 1];
  }
  return fallback;
}

std::string Vector(int seed) {
  std::string s = "[";
  for (int d = 0; d < kDim; ++d) {
    s += (d ? "," : "") + std::to_string(std::sin(seed * 0.37 + d * 1.3) + 1.5);
  }
  return s + "]";
}

std::string Point(int id, int round) {
  return "{\"id\":" + std::to_string(id) + ",\"vector\":" + Vector(id * 31 + round) +
         ",\"payload\":{\"group\":\"g" + std::to_string(id % 5) + "\",\"n\":" + std::to_string(round) + "}}";
}

// One answer to each of `requests`, in order on one connection; true if all were 200.
bool Once(uint16_t port, std::vector<std::string> requests) {
  LoadSpec spec;
  spec.port = port;
  spec.connections = 1;
  spec.each_once = true;
  spec.requests = std::move(requests);
  const auto r = RunLoad(spec);
  return r.failed == 0 && r.completed == spec.requests.size();
}

}  // namespace

int main(int argc, char** argv) {
  const int port = std::atoi(Arg(argc, argv, "port", "0").c_str());
  const double seconds = std::atof(Arg(argc, argv, "seconds", "30").c_str());
  const int connections = std::atoi(Arg(argc, argv, "connections", "8").c_str());
  if (port <= 0 || port > 65535 || seconds <= 0 || connections <= 0) {
    std::fprintf(stderr, "usage: mixed_load --port PORT [--seconds 30] [--connections 8]\n");
    return 2;
  }
  const auto p = static_cast<uint16_t>(port);
  Once(p, {RawRequest("DELETE", kPath, "")});  // absent the first time: its answer does not matter
  if (!Once(p, {RawRequest("PUT", kPath, "{\"vectors\":{\"size\":8,\"distance\":\"Cosine\"}}"),
                RawRequest("PUT", kPath + "/index",
                           "{\"field_name\":\"group\",\"field_schema\":\"keyword\"}")})) {
    std::fprintf(stderr, "mixed_load: cannot create the collection\n");
    return 1;
  }

  // Every id exists from the start; deletes take odd ids only and payload updates even ones, which are never
  // deleted (a payload update of an absent point is a 404), so every request of the load must answer 200.
  std::vector<std::string> preload;
  for (int id = 0; id < kIds; id += 50) {
    std::string batch;
    for (int k = id; k < id + 50; ++k) batch += (k > id ? "," : "") + Point(k, 0);
    preload.push_back(RawRequest("PUT", kPath + "/points?wait=true", "{\"points\":[" + batch + "]}"));
  }
  if (!Once(p, preload)) {
    std::fprintf(stderr, "mixed_load: cannot load the first points\n");
    return 1;
  }
  const auto odd = [](int id) { return std::to_string((id | 1) % kIds); };
  const auto even = [](int id) { return std::to_string((id & ~1) % kIds); };

  std::vector<std::string> requests;
  for (int i = 0; i < 48; ++i) {
    const int id = (i * 53) % kIds;
    std::string batch;
    for (int k = 0; k < 6; ++k) batch += (k ? "," : "") + Point((id + k * 67) % kIds, i);
    requests.push_back(RawRequest("PUT", kPath + "/points?wait=true", "{\"points\":[" + batch + "]}"));
    requests.push_back(RawRequest("POST", kPath + "/points/search",
                                  "{\"vector\":" + Vector(i) + ",\"limit\":10,\"with_payload\":true}"));
    requests.push_back(
        RawRequest("POST", kPath + "/points/search",
                   "{\"vector\":" + Vector(i + 7) +
                       ",\"limit\":5,\"filter\":{\"must\":[{\"key\":\"group\",\"match\":{\"value\":\"g" +
                       std::to_string(i % 5) + "\"}}]}}"));
    switch (i % 6) {
      case 0:
        requests.push_back(RawRequest("POST", kPath + "/points/delete?wait=true",
                                      "{\"points\":[" + odd(id + 11) + "," + odd(id + 14) + "]}"));
        break;
      case 1:
        requests.push_back(RawRequest("POST", kPath + "/points/payload?wait=true",
                                      "{\"payload\":{\"tag\":" + std::to_string(i) + "},\"points\":[" +
                                          even(id) + "," + even(id + 2) + "]}"));
        break;
      case 2:
        requests.push_back(RawRequest("PUT", kPath + "/points/payload?wait=true",
                                      "{\"payload\":{\"group\":\"g1\"},\"points\":[" + even(id + 4) + "]}"));
        break;
      case 3:
        requests.push_back(
            RawRequest("POST", kPath + "/points/count",
                       "{\"filter\":{\"must\":[{\"key\":\"group\",\"match\":{\"value\":\"g2\"}}]}}"));
        break;
      case 4:
        requests.push_back(
            RawRequest("POST", kPath + "/points/scroll", "{\"limit\":50,\"with_payload\":true}"));
        break;
      default:
        requests.push_back(
            RawRequest("POST", kPath + "/points",
                       "{\"ids\":[" + std::to_string(id) + "," + std::to_string((id + 3) % kIds) + "]}"));
    }
  }

  LoadSpec spec;
  spec.port = p;
  spec.connections = static_cast<size_t>(connections);
  spec.warmup_seconds = 0;
  spec.seconds = seconds;
  spec.requests = std::move(requests);
  const auto r = RunLoad(spec);
  std::printf("mixed_load: %.0f s, %d connections: %llu answered, %llu answered 200, %llu failed (%.0f/s)\n",
              r.seconds, connections, static_cast<unsigned long long>(r.answered),
              static_cast<unsigned long long>(r.completed), static_cast<unsigned long long>(r.failed),
              r.Qps());
  return r.failed == 0 && r.completed > 0 ? 0 : 1;
}
