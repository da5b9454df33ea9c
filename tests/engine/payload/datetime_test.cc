#include "payload/datetime.h"

#include <catch2/catch.hpp>
#include <string>

namespace quiver::payload {
namespace {

int64_t At(const char* text) {
  std::optional<int64_t> t = ParseDatetime(text);
  INFO(text);
  REQUIRE(t.has_value());
  return *t;
}

TEST_CASE("datetime: every form Qdrant accepts", "[payload][datetime]") {
  // The forms of Qdrant's test_datetime_deserialization.
  for (const char* text :
       {"2020-03-01T00:00:00Z", "2020-03-01T00:00:00-09:00", "2020-03-01 00:00:00-0900",
        "2020-03-01T00:00:00-0900", "2020-03-01 00:00:00-09", "2020-03-01T00:00:00.123456Z",
        "2020-03-01T00:00:00", "2020-03-01T00:00:00.12", "2020-03-01 00:00:00", "2020-03-01 00:00:00.123456",
        "2020-03-01T00:00", "2020-03-01 00:00", "2020-03-01", "2020-03-01t00:00:00z"}) {
    INFO(text);
    CHECK(ParseDatetime(text).has_value());
  }
  CHECK(At("1970-01-01T00:00:00Z") == 0);
  CHECK(At("1970-01-01") == 0);
  CHECK(At("1970-01-01T00:00:01.5Z") == 1500000);
  CHECK(At("2023-02-08T10:49:00Z") == 1675853340LL * 1000000);
  CHECK(At("2023-02-08T11:49:00+01:00") == At("2023-02-08T10:49:00Z"));
  CHECK(At("2023-02-08T10:49:00") == At("2023-02-08T10:49:00Z"));  // naive is UTC
  CHECK(At("2023-02-08 10:49") == At("2023-02-08T10:49:00Z"));
  CHECK(At("2020-03-01T00:00:00-09:00") == At("2020-03-01T09:00:00Z"));
  CHECK(At("2020-03-01T00:00:00-0930") == At("2020-03-01T09:30:00Z"));
  CHECK(At("2020-03-01T00:00:00.1234567891Z") == At("2020-03-01T00:00:00.123456Z"));  // truncated to µs
  CHECK(At("2020-03-01T00:00:00.000001Z") - At("2020-03-01") == 1);
  CHECK(At("1969-12-31T23:59:59.999999Z") == -1);
  CHECK(At("0000-01-01") < At("1969-01-01"));
  CHECK(At("9999-12-31T23:59:59.999999Z") > At("2023-01-01"));
  CHECK(At("2016-12-31T23:59:60Z") == At("2017-01-01T00:00:00Z"));  // a leap second
  CHECK(At("2024-02-29") + 86400LL * 1000000 == At("2024-03-01"));
  // Qdrant's test_timezone_ordering: these are in increasing order.
  const char* ordered[] = {"2000-06-08 00:18:53+0900", "2000-06-07 07:25:34-1100", "2000-07-10T00:18:53+0100",
                           "2000-07-11 00:25:34-01:00", "2000-07-11 00:25:35-01"};
  for (size_t i = 1; i < 5; ++i) CHECK(At(ordered[i - 1]) < At(ordered[i]));
}

TEST_CASE("datetime: rejects everything else", "[payload][datetime]") {
  for (const char* text : {"",
                           "2020",
                           "2020-03",
                           "20200301",
                           "2020-3-01",
                           "2020-03-1",
                           "2020-13-01",
                           "2020-00-10",
                           "2020-02-30",
                           "2023-02-29",
                           "2020-03-01T",
                           "2020-03-01T24:00",
                           "2020-03-01T10:60",
                           "2020-03-01T10:00:61",
                           "2020-03-01T10",
                           "2020-03-01T10:00:00.",
                           "2020-03-01T10:00:00ZZ",
                           "2020-03-01Z",
                           "2020-03-01T10:00+1",
                           "2020-03-01T10:00:00+01:",
                           "2020-03-01T10:00:00+24:00",
                           "2020-03-01T10:00:00+01:60",
                           "2020-03-01x10:00",
                           " 2020-03-01",
                           "2020-03-01 ",
                           "2014-01-01T00:00:00BAD",
                           "yesterday",
                           "+2020-03-01",
                           "-001-03-01"}) {
    INFO("'" << text << "'");
    CHECK_FALSE(ParseDatetime(text).has_value());
  }
}

TEST_CASE("datetime: formats as RFC 3339 UTC", "[payload][datetime]") {
  CHECK(FormatDatetime(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(FormatDatetime(-1) == "1969-12-31T23:59:59.999999Z");
  CHECK(FormatDatetime(At("2023-02-08T11:49:00.25+01:00")) == "2023-02-08T10:49:00.250000Z");
  for (const char* text :
       {"0000-01-01T00:00:00.000000Z", "2000-02-29T12:34:56.789012Z", "9999-12-31T23:59:59.999999Z"}) {
    CHECK(FormatDatetime(At(text)) == text);
  }
}

}  // namespace
}  // namespace quiver::payload
