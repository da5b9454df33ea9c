// Shared fixture for the payload tests: a small set of points whose payloads cover the edge cases of the
// filter language (missing vs null vs [], arrays, arrays in arrays, integers vs floats, strings that look
// like numbers, datetimes in several forms, geo points across the antimeridian, objects where arrays are
// expected ...).
#ifndef QUIVER_TESTS_ENGINE_PAYLOAD_TEST_POINTS_H_
#define QUIVER_TESTS_ENGINE_PAYLOAD_TEST_POINTS_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "payload/json_util.h"
#include "quiver/point_id.h"

namespace quiver::payload::testing {

struct TestPoint {
  int number;  // the point's number in the test tables (1..15)
  PointId id;
  boost::json::object payload;
};

// Point 8 has a UUID id; the others have their number as id.
inline constexpr const char* kUuidOfPoint8 = "a0000000-0000-0000-0000-000000000001";

inline std::vector<TestPoint> TestPoints() {
  const char* payloads[] = {
      /* 1 */ R"({"city":"Berlin","count":1,"price":9.5,"tags":["red","green"],"flag":true,
                  "ts":"2023-02-08T10:49:00Z","loc":{"lon":13.404954,"lat":52.520008},"text":"The quick brown fox",
                  "uid":"550e8400-e29b-41d4-a716-446655440000","items":[{"name":"a","qty":1},{"name":"b","qty":5}],
                  "nested":{"x":{"y":1}}})",
      /* 2 */
      R"({"city":"London","count":2,"price":1.0,"tags":["blue"],"flag":false,"ts":"2023-02-08T11:49:00+01:00",
                  "loc":{"lon":-0.1276,"lat":51.5072},"text":"quick brown dogs jump","items":[{"name":"a","qty":5}]})",
      /* 3 */ R"({"city":["Berlin","Paris"],"count":1.0,"price":"5","tags":[],"flag":null,"ts":"2023-02-09",
                  "loc":[{"lon":2.3522,"lat":48.8566},{"lon":13.405,"lat":52.52}],"text":["lazy dog","brown fox"],
                  "items":[]})",
      /* 4 */ R"({"city":null,"count":"1","tags":[null],"ts":"not a date","loc":{"lon":200,"lat":10},
                  "text":"QUICK-Brown fox!","items":{"name":"a","qty":9}})",
      /* 5 */ R"({})",
      /* 6 */ R"({"city":"berlin","count":-3,"price":1e10,"tags":[["red"]],"flag":[true,false],
                  "ts":"2023-02-08 10:49:00.000001","text":"brownie","items":[{"name":"a","qty":1},{"name":"c","qty":7}],
                  "arr":[1,2,3]})",
      /* 7 */ R"({"city":5,"count":9223372036854775807,"price":-0.5,"tags":"red","text":"fox quick brown",
                  "items":[{"name":"b","qty":2,"sub":[{"k":1}]}]})",
      /* 8 */ R"({"city":"Paris","count":[1,2,3],"tags":["red","red"]})",
      /* 9 */
      R"({"city":"","count":2.5,"a":{"b":[{"c":1},{"c":2}]},"ts":["2023-01-01T00:00:00Z","2024-01-01T00:00:00Z"]})",
      /* 10 */ R"({"loc":{"lon":179.9,"lat":0.0},"uid":"550E8400-E29B-41D4-A716-446655440000"})",
      /* 11 */ R"({"loc":{"lon":-179.9,"lat":0.05},"uid":"550e8400e29b41d4a716446655440000"})",
      /* 12 */ R"({"loc":{"lon":0.5,"lat":0.5}})",
      /* 13 */ R"({"loc":{"lon":2,"lat":2}})",
      /* 14 */ R"({"loc":{"lon":0,"lat":0.5}})",
      /* 15 */ R"({"count":18446744073709551615})",
  };
  std::vector<TestPoint> points;
  for (int i = 0; i < 15; ++i) {
    const int number = i + 1;
    PointId id =
        number == 8 ? *PointId::ParseUuid(kUuidOfPoint8) : PointId::Number(static_cast<uint64_t>(number));
    Result<boost::json::object> payload = ParsePayloadText(payloads[i]);
    if (!payload.ok()) throw std::runtime_error("bad test payload " + std::to_string(number));
    points.push_back(TestPoint{number, id, std::move(*payload)});
  }
  return points;
}

}  // namespace quiver::payload::testing

#endif  // QUIVER_TESTS_ENGINE_PAYLOAD_TEST_POINTS_H_
