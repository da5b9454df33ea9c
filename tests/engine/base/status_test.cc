#include "quiver/status.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

namespace quiver {
namespace {

TEST_CASE("Status: OK carries no message and converts to text", "[base][status]") {
  Status s;
  CHECK(s.ok());
  CHECK(s.code() == StatusCode::kOk);
  CHECK(s.message().empty());
  CHECK(s.ToString() == "OK");
  CHECK(Status::OK().ok());
}

TEST_CASE("Status: error codes, messages and context", "[base][status]") {
  Status s = Status::InvalidArgument("vector has 3 dimensions, expected 4");
  CHECK_FALSE(s.ok());
  CHECK(s.IsInvalidArgument());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message() == "vector has 3 dimensions, expected 4");
  CHECK(s.ToString() == "invalid argument: vector has 3 dimensions, expected 4");

  Status c = s.WithContext("points[2]");
  CHECK(c.code() == StatusCode::kInvalidArgument);
  CHECK(c.message() == "points[2]: vector has 3 dimensions, expected 4");
  CHECK(Status::OK().WithContext("x").ok());

  Status copy = c;
  CHECK(copy.ToString() == c.ToString());
  Status moved = std::move(copy);
  CHECK(moved.message() == c.message());

  CHECK(Status::Corruption("x").IsCorruption());
  CHECK(Status::NotFound("x").IsNotFound());
  CHECK(Status::IOError("x").IsIOError());
  CHECK(StatusCodeName(StatusCode::kBusy) == "busy");
  // The numbers are part of the C and JS APIs and must not change.
  CHECK(static_cast<int>(StatusCode::kInvalidArgument) == 1);
  CHECK(static_cast<int>(StatusCode::kCorruption) == 4);
  CHECK(static_cast<int>(StatusCode::kInternal) == 10);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  QUIVER_ASSIGN_OR_RETURN(int h, Half(x));
  QUIVER_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  QUIVER_RETURN_IF_ERROR(Half(x).status());
  return Status::OK();
}

TEST_CASE("Result: value or status, and the propagation macros", "[base][status]") {
  Result<int> ok = Quarter(8);
  REQUIRE(ok.ok());
  CHECK(*ok == 2);

  Result<int> bad = Quarter(6);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "3 is odd");

  CHECK(CheckEven(4).ok());
  CHECK(CheckEven(5).IsInvalidArgument());

  Result<std::unique_ptr<int>> owned = std::make_unique<int>(7);
  REQUIRE(owned.ok());
  std::unique_ptr<int> taken = std::move(owned).value();
  CHECK(*taken == 7);

  Result<std::string> a = std::string("abc");
  Result<std::string> b = a;
  CHECK(*b == "abc");
  b = Status::NotFound("gone");
  CHECK(b.status().IsNotFound());
  b = a;
  CHECK(b->size() == 3);
}

}  // namespace
}  // namespace quiver
