// Payload JSON and key paths (payload/json_parse.h, payload/json_util.h, payload/json_path.h,
// payload/text_tokens.h).
//
// Input: a key path, a newline, then JSON text. Checks: the engine's JSON parser agrees with Boost.JSON's (verdict,
// error, offset, tree); a payload's canonical and readable texts parse back to the same payload, doubles exactly; a parsed path's canonical text parses to the same path, and ValidateKeyPath agrees with
// JsonPath::Parse; the path edits (delete, include, exclude) and traversals never fail on a valid path.
#include <boost/json/stream_parser.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "payload/json_parse.h"
#include "payload/json_path.h"
#include "payload/json_util.h"
#include "payload/text_tokens.h"

using namespace quiver;

namespace {

// Doubles within `ulps` units in the last place of each other.
bool CloseDoubles(double x, double y, int ulps) {
  double lo = x, hi = x;
  for (int i = 0; i < ulps; ++i) {
    lo = std::nextafter(lo, -HUGE_VAL);
    hi = std::nextafter(hi, HUGE_VAL);
  }
  return lo <= y && y <= hi;
}

// Equal JSON values, doubles within `ulps` units in the last place (0: identical).
bool SameJson(const boost::json::value& a, const boost::json::value& b, int ulps) {
  if (a.is_double() && b.is_double()) {
    // Boost.JSON 1.81 reads zero with an exponent above 308 ("0e708") as 0 times infinity, NaN.
    if (ulps > 0 && std::isnan(b.get_double())) return a.get_double() == 0;
    return CloseDoubles(a.get_double(), b.get_double(), ulps);
  }
  if (a.kind() != b.kind()) return false;
  if (const auto* oa = a.if_object()) {
    const auto& ob = b.get_object();
    if (oa->size() != ob.size()) return false;
    for (const auto& kv : *oa) {
      const boost::json::value* other = ob.if_contains(kv.key());
      if (other == nullptr || !SameJson(kv.value(), *other, ulps)) return false;
    }
    return true;
  }
  if (const auto* aa = a.if_array()) {
    const auto& ab = b.get_array();
    if (aa->size() != ab.size()) return false;
    for (size_t i = 0; i < aa->size(); ++i) {
      if (!SameJson((*aa)[i], ab[i], ulps)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view path_text = newline == std::string_view::npos ? input : input.substr(0, newline);
  const std::string_view json_text = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  auto path = payload::JsonPath::Parse(path_text);
  FUZZ_CHECK(path.ok() == payload::ValidateKeyPath(path_text).ok());
  if (path.ok()) {
    auto again = payload::JsonPath::Parse(path->text());
    FUZZ_CHECK(again.ok() && *again == *path && again->text() == path->text());
    FUZZ_CHECK(!path->items().empty() && path->items()[0].kind == payload::JsonPath::Item::Kind::kKey);
    auto elements = path->ArrayElements();
    FUZZ_CHECK(elements.ends_with_wildcard());
    auto concat = path->Concat(*path);
    FUZZ_CHECK(concat.items().size() == 2 * path->items().size());
  }

  (void)payload::Tokenize(json_text);

  // Any JSON value prints (a number too large for a double, which payloads refuse, included).
  auto value = payload::ParseJsonText(json_text, "fuzz", payload::kMaxPayloadDepth);
  if (value.ok()) {
    (void)payload::CanonicalJson(*value);
    (void)payload::ReadableJson(*value);
  }
  // The engine's parser (payload/json_parse.h) against Boost.JSON's: the same verdict, error and offset, and the
  // same tree, doubles within the few units in the last place that Boost.JSON 1.81's parse can be off.
  {
    boost::json::parse_options options;
    options.max_depth = payload::kMaxPayloadDepth;
    boost::json::stream_parser boost_parser(boost::json::storage_ptr(), options);
    boost::system::error_code boost_ec;
    size_t boost_offset = boost_parser.write(json_text.data(), json_text.size(), boost_ec);
    if (!boost_ec) {
      boost_parser.finish(boost_ec);
      boost_offset = json_text.size();
    }
    boost::system::error_code ec;
    size_t offset = 0;
    const boost::json::value ours = payload::ParseJson(json_text, ec, payload::kMaxPayloadDepth, &offset);
    FUZZ_CHECK(ec == boost_ec);
    if (ec) {
      FUZZ_CHECK(offset == boost_offset);
    } else {
      FUZZ_CHECK(SameJson(ours, boost_parser.release(), 4));
    }
  }

  auto object = payload::ParsePayloadText(json_text);
  if (!object.ok()) return 0;
  // Canonical and readable text of a payload read back as the same payload, doubles exactly (printed in their
  // shortest round-trip form, read as the nearest double).
  {
    const boost::json::value original(*object);
    for (const std::string& text : {payload::CanonicalJson(original), payload::ReadableJson(original)}) {
      auto reparsed = payload::ParsePayloadText(text);
      FUZZ_CHECK_OK(reparsed);
      FUZZ_CHECK(SameJson(boost::json::value(*reparsed), original, 0));
    }
  }
  if (!path.ok()) return 0;
  size_t raw = 0, expanded = 0;
  payload::ForEachRawValue(*object, *path, [&](const boost::json::value&) { return ++raw > 1000; });
  payload::ForEachValue(*object, *path, [&](const boost::json::value&) { return ++expanded > 1000; });
  const std::vector<std::string> paths = {std::string(path_text)};
  boost::json::object included = payload::IncludePaths(*object, paths);
  boost::json::object excluded = payload::ExcludePaths(*object, paths);
  FUZZ_CHECK(included.size() <= object->size() && excluded.size() <= object->size());
  boost::json::object edited = *object;
  auto removed = payload::DeletePath(&edited, path_text);
  FUZZ_CHECK_OK(removed);
  if (!*removed) {
    FUZZ_CHECK(payload::CanonicalJson(boost::json::value(edited)) ==
               payload::CanonicalJson(boost::json::value(*object)));
  }
  // Deleting twice removes nothing more (the reason `[n]` paths remove nothing).
  boost::json::object twice = edited;
  auto removed_again = payload::DeletePath(&twice, path_text);
  FUZZ_CHECK_OK(removed_again);
  if (*removed_again) {
    FUZZ_CHECK(payload::CanonicalJson(boost::json::value(twice)) ==
               payload::CanonicalJson(boost::json::value(edited)));
  }
  return 0;
}
