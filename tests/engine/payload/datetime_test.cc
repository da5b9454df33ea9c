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
        "2020-03-01T00:00", "2020-03-01 00:00", "2020-03-01", "2020-03-01t00:00:00z", "2020-3-1"}) {
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

TEST_CASE("datetime: the relaxed forms chrono reads for Qdrant", "[payload][datetime]") {
  const int64_t t = At("2023-02-08T10:49:00Z");
  const int64_t hour = 3600LL * 1000000;
  // Found by the differential test against Qdrant (issue 10).
  CHECK(At("2023-2-8") == At("2023-02-08"));
  CHECK(At("2023-02-08T9:49:00Z") == t - hour);
  CHECK(At("2023-02-08T10:49:00UTC") == t);
  CHECK(At("2023-02-08T10:49:00 +01:00") == t - hour);
  // One-digit fields anywhere, white space before any field.
  CHECK(At("2023-2-8T9:9:9Z") == At("2023-02-08T09:09:09Z"));
  CHECK(At("2023-2-8 9:49") == t - hour);
  CHECK(At("2023-02-08T9:49") == t - hour);
  CHECK(At("2023-02-08 9:49:0.5") == t - hour + 500000);
  CHECK(At(" 2023-02-08") == At("2023-02-08"));
  CHECK(At("2023- 2- 8T 9: 49: 00Z") == t - hour);
  CHECK(At("2023-02-0810:49") == t);  // "%Y-%m-%d %H:%M": the space may be no space at all
  CHECK(At("2023-02-08 \t 10:49:00") == t);
  CHECK(At("2023-02-08\xE3\x80\x80"
           "10:49:00") == t);  // U+3000 is white space too
  // Zones: z, UTC in any case, spaces, a colon or none, minutes left off (strftime forms), U+2212 minus.
  CHECK(At("2023-02-08T10:49:00z") == t);
  CHECK(At("2023-02-08T10:49:00 utc") == t);
  CHECK(At("2023-02-08 10:49:00Utc") == t);
  CHECK(At("2023-02-08T11:49:00+0100") == t);
  CHECK(At("2023-02-08T11:49:00+01 : 00") == t);
  CHECK(At("2023-02-08T11:49:00+01 00") == t);
  CHECK(At("2023-02-08T11:49:00+01") == t);
  CHECK(At("2023-02-08T11:49:00+01:") == t);
  CHECK(At("2023-02-08T09:49:00\xE2\x88\x92"
           "01:00") == t);
  CHECK(At("2023-02-08T10:49:00Z ") == t);  // the relaxed form allows white space after the zone
  CHECK(At("2023-02-08T12:49:00.5+02:00") == t + 500000);
  CHECK(At("2023-02-08T10:49:00+23:59") == t - (23 * 60 + 59) * 60LL * 1000000);
  // A lowercase t: with a zone (RFC 3339, strict or relaxed); never without one.
  CHECK(At("2023-02-08t10:49:00z") == t);
  CHECK(At("2023-02-08t11:49:00+01:00") == t);
  CHECK(At("2023-02-08t11:49:00+0100") == t);
  CHECK(At("2023-02-08t10:49:00 UTC") == t);
  CHECK(At("2023-02-08t9:49:00Z") == t - hour);
  // Years: signed and wider years, within chrono's range.
  CHECK(At("+2023-02-08") == At("2023-02-08"));
  CHECK(At("+0002023-02-08T10:49:00Z") == t);
  CHECK(At("5-01-01") == At("0005-01-01"));
  CHECK(At("-1-12-31T23:59:59Z") + 1000000 == At("0000-01-01"));
  CHECK(At("+262142-12-31T23:59:59.999999Z") > At("9999-12-31"));
  CHECK(At("-262143-01-01") < At("0000-01-01"));
  CHECK(FormatDatetime(At("-1-12-31")) == "-0001-12-31T00:00:00.000000Z");
  CHECK(FormatDatetime(At("+12345-06-07T08:09:10Z")) == "+12345-06-07T08:09:10.000000Z");
}

TEST_CASE("datetime: rejects everything else", "[payload][datetime]") {
  for (const char* text :
       {"", "2020", "2020-03", "20200301", "2020-13-01", "2020-00-10", "2020-02-30", "2023-02-29",
        "2020-3-32", "2020-03-01T", "2020-03-01T24:00", "2020-03-01T10:60", "2020-03-01T10:00:61",
        "2020-03-01T10", "2020-03-01T10:00:00.", "2020-03-01T10:00:00.Z", "2020-03-01T10:00:00ZZ",
        "2020-03-01Z", "2020-03-01T10:00+1", "2020-03-01T10:00:00+1", "2020-03-01T10:00:00 + 01:00",
        "2020-03-01T10:00:00+01:0", "2020-03-01T10:00:00+24:00", "2020-03-01T10:00:00+01:60",
        "2020-03-01T10:00:00+0160", "2020-03-01T10:00:00UT", "2020-03-01T10:00:00GMT", "2020-03-01x10:00",
        "2020-03-01 ", "2020-03-01T10:00 ", "2020-03-01T10:00:00 ", "2020-03-01T10:00:00Z x",
        "2014-01-01T00:00:00BAD", "yesterday", "02020-03-01", "2020--03-01", "2020-003-01", "2020-03-001",
        "2020-03-01T010:00",
        // A zone needs seconds.
        "2020-03-01T10:00Z", "2020-03-01 10:00+01:00", "2020-03-01T10:00 UTC",
        // A lowercase t without a zone, or with a zone chrono's RFC 3339 parsers refuse.
        "2023-02-08t10:49:00", "2023-02-08t10:49", "2023-02-08t10:49:00.5", "2023-02-08t10:49:00+01",
        "2023-02-08t10:49Z",
        // UTC only where the relaxed form reads it.
        "2023-02-08T10:49UTC",
        // Years outside chrono's range, or the instant pushed outside it by the offset.
        "+262143-01-01", "-262144-12-31", "-262143-01-01T00:00:00+01:00", "+999999999999999999999-01-01"}) {
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
