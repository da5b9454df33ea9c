// payload::ParseDatetime: any text gives an instant or nullopt, and an instant printed back parses to itself
// (when it falls in the years 0000..9999 that the text forms cover: "9999-12-31T23:59:60-12" is in 10000).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "payload/datetime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto micros = quiver::payload::ParseDatetime(text);
  if (!micros) return 0;
  const std::string printed = quiver::payload::FormatDatetime(*micros);
  if (printed.size() != 27 || printed[0] == '-') return 0;
  const auto again = quiver::payload::ParseDatetime(printed);
  FUZZ_CHECK(again && *again == *micros);
  return 0;
}
