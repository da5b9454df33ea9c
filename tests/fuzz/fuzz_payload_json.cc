// Payload JSON and key paths (payload/json_util.h, payload/json_path.h, payload/text_tokens.h).
//
// Input: a key path, a newline, then JSON text. Checks: a payload's canonical text is a fixed point and its
// readable text parses back to the same payload; a parsed path's canonical text parses to the same path, and
// ValidateKeyPath agrees with JsonPath::Parse; the path edits (delete, include, exclude) and traversals never
// fail on a valid path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "payload/json_path.h"
#include "payload/json_util.h"
#include "payload/text_tokens.h"

using namespace quiver;

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

  auto object = payload::ParsePayloadText(json_text);
  if (!object.ok()) return 0;
  // Canonical text is a fixed point, and readable text of a payload reads back as the same payload (doubles in
  // shortest round-trip form).
  {
    const std::string canonical = payload::CanonicalJson(boost::json::value(*object));
    auto reparsed = payload::ParsePayloadText(canonical);
    FUZZ_CHECK_OK(reparsed);
    FUZZ_CHECK(payload::CanonicalJson(boost::json::value(*reparsed)) == canonical);
    const std::string readable = payload::ReadableJson(boost::json::value(*object));
    auto back = payload::ParsePayloadText(readable);
    FUZZ_CHECK_OK(back);
    FUZZ_CHECK(payload::CanonicalJson(boost::json::value(*back)) ==
               payload::CanonicalJson(boost::json::value(*object)));
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
