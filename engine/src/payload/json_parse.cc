#include "payload/json_parse.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value_stack.hpp>
#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace quiver::payload {
namespace {

namespace json = boost::json;
using boost::system::error_code;

// One element of a number array read ahead: what the handler would have pushed for it.
struct Number {
  union {
    int64_t i;
    double d;
  };
  bool is_int;
};

// A number array read ahead: text[begin, end) is "[...]", its values values[first, first + count).
struct NumberRun {
  size_t begin = 0;
  size_t end = 0;
  size_t first = 0;
  size_t count = 0;
  bool kept = false;  // the root member KeptNumbers asks for
};

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool IsDigit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// std::from_chars for doubles where the standard library has it (libstdc++; not Emscripten's libc++ 13), else
// strtod on a copy: the same correctly rounded double (WebAssembly programs keep the "C" locale). False when
// the text does not fit a double.
bool DecimalToDouble(const char* begin, const char* end, double* out) {
#if defined(__cpp_lib_to_chars)
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  return ec == std::errc() && ptr == end;
#else
  const std::string text(begin, end);
  char* stop = nullptr;
  errno = 0;
  const double d = std::strtod(text.c_str(), &stop);
  if (errno == ERANGE || stop != text.c_str() + text.size()) return false;
  *out = d;
  return true;
#endif
}

// The value of eight decimal digits held one per byte of a little-endian word (0..9 each, the first digit in
// the lowest byte): combined pairwise (d0*10 + d1 per 16 bits), then the pairs into fours, then the fours into
// the whole, three multiplications in all.
uint64_t DigitsValue(uint64_t t) {
  t = (t * 10 + (t >> 8)) & 0x00FF00FF00FF00FF;    // d0d1, d2d3, d4d5, d6d7 (each < 100)
  t = (t * 100 + (t >> 16)) & 0x0000FFFF0000FFFF;  // d0..d3, d4..d7 (each < 10,000)
  return (t * 10000 + (t >> 32)) & 0xFFFFFFFF;      // d0..d7
}

// Appends the digits at p to `mantissa` (which wraps past 19 digits: callers count them); returns their end.
// Eight bytes at a time where eight are left: the bytes minus '0' are 0..9 for digits, so the first byte of
// that word that is not below 10 ends the run (a borrow from a lower non-digit byte only reaches higher ones),
// and the digits before it, shifted to the top of the word behind zeros, give their value in one DigitsValue.
[[gnu::always_inline]] inline const char* ReadDigits(const char* p, const char* end, uint64_t* mantissa) {
  static constexpr uint64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
  uint64_t m = *mantissa;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    const uint64_t t = w - 0x3030303030303030;
    const uint64_t not_digits = ((t + 0x7676767676767676) | t) & 0x8080808080808080;
    const int n = not_digits == 0 ? 8 : std::countr_zero(not_digits) / 8;
    if (n == 0) break;
    m = m * kPow10[n] + (n == 1 ? (t & 0xFF) : DigitsValue(t << (8 * (8 - n))));
    p += n;
    if (n < 8) {
      *mantissa = m;
      return p;
    }
  }
  while (p < end && IsDigit(*p)) m = m * 10 + static_cast<uint64_t>(*p++ - '0');
  *mantissa = m;
  return p;
}

// Reads the JSON number at p into `out` by the handler's rules (an integer of at most 18 digits as int64, a
// number with a fraction or an exponent as its nearest double). Returns its end, or nullptr when the text at p
// is not a JSON number, or is an integer of more digits, has an exponent of more than 8 digits, or does not fit
// a double: the parser reads those.
// Most doubles take the exact fast path: a mantissa of at most 2^53 and a power of ten of at most 22 are both
// exact doubles, so one IEEE multiplication or division rounds their product once, to the nearest double. The
// rest go to DecimalToDouble.
[[gnu::always_inline]] inline const char* ReadNumber(const char* p, const char* end, Number* out) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char* const begin = p;
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  if (p == end) return nullptr;
  uint64_t mantissa = 0;
  const char* const int_begin = p;
  if (*p == '0') {
    ++p;
  } else if (IsDigit(*p)) {
    p = ReadDigits(p, end, &mantissa);
  } else {
    return nullptr;
  }
  const size_t int_digits = static_cast<size_t>(p - int_begin);
  size_t digits = int_digits;  // in `mantissa`, leading zeros included
  int64_t exponent = 0;
  bool is_int = true;
  if (p < end && *p == '.') {
    const char* const fraction = ++p;
    p = ReadDigits(p, end, &mantissa);
    if (p == fraction) return nullptr;
    digits += static_cast<size_t>(p - fraction);
    exponent = -static_cast<int64_t>(p - fraction);
    is_int = false;
  }
  if (p < end && (*p | 0x20) == 'e') {
    ++p;
    const bool minus = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+')) ++p;
    if (p == end || !IsDigit(*p)) return nullptr;
    const char* const e_begin = p;
    int64_t e = 0;
    for (; p < end && IsDigit(*p); ++p) {
      if (p - e_begin == 8) return nullptr;  // Boost.JSON refuses exponents past INT_MAX; let it say so
      e = e * 10 + (*p - '0');
    }
    exponent += minus ? -e : e;
    is_int = false;
  }
  out->is_int = is_int;
  if (is_int) {
    if (int_digits > 18) return nullptr;
    out->i = negative ? -static_cast<int64_t>(mantissa) : static_cast<int64_t>(mantissa);
    return p;
  }
  if (digits <= 19 && mantissa <= (uint64_t{1} << 53) && exponent >= -22 && exponent <= 22) {
    double d = static_cast<double>(mantissa);
    d = exponent < 0 ? d / kPow10[-exponent] : d * kPow10[exponent];
    out->d = negative ? -d : d;
    return p;
  }
  return DecimalToDouble(begin, p, &out->d) ? p : nullptr;
}

// The double nearest to a number's text that Boost.JSON read as a double; false when it does not fit (out of a
// double's range either way), where the caller keeps Boost.JSON's value.
bool NearestDouble(const char* begin, const char* end, double* out) {
  Number n;
  if (ReadNumber(begin, end, &n) == end && !n.is_int) {
    *out = n.d;
    return true;
  }
  return DecimalToDouble(begin, end, out);  // an integer too long for uint64
}

// Reads "[number, number, ...]" starting at text[at] == '[' into `values`. Returns one past the ']', or 0 (and
// `values` as it was) when the array is shorter than kMinNumberRun, holds anything ReadNumber leaves to the
// parser, or is not valid JSON.
size_t ReadNumberRun(std::string_view text, size_t at, std::vector<Number>* values) {
  const size_t first = values->size();
  const char* p = text.data() + at + 1;
  const char* const end = text.data() + text.size();
  auto fail = [&] {
    values->resize(first);
    return size_t{0};
  };
  while (p < end && IsSpace(*p)) ++p;
  while (true) {
    Number n;
    p = ReadNumber(p, end, &n);
    if (p == nullptr) return fail();
    values->push_back(n);
    while (p < end && IsSpace(*p)) ++p;
    if (p == end) return fail();
    if (*p == ']') break;
    if (*p != ',') return fail();
    ++p;
    while (p < end && IsSpace(*p)) ++p;
  }
  if (values->size() - first < kMinNumberRun) return fail();
  return static_cast<size_t>(p + 1 - text.data());
}

// The number arrays of `text` worth reading ahead: each a '[' where a value may stand (the text's start, after
// ':', after '[', or after ',' inside an array), no deeper than `max_depth`; kept when it is the value of the
// root object's member `kept_member` (its key written without escapes). Strings are skipped; the scan
// stops at the first sign of malformed text (the parser reports it).
std::vector<NumberRun> FindNumberRuns(std::string_view text, size_t max_depth, std::string_view kept_member,
                                      std::vector<Number>* values) {
  std::vector<NumberRun> runs;
  std::string_view root_key;  // the last string at the root object's level, as written
  // The placeholders are strings starting with U+0000, which JSON text can only spell as this escape.
  if (text.find("\\u0000") != std::string_view::npos) return runs;
  std::string containers;  // '[' or '{' per open level
  char previous = 0;       // the last structural character outside strings, or 'v' after a scalar
  const char* const data = text.data();
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    const char c = data[i];
    if (c == '"') {
      // The closing quote is the first one preceded by an even number of backslashes.
      size_t j = i + 1;
      while (true) {
        const void* q = std::memchr(data + j, '"', size - j);
        if (q == nullptr) return runs;
        const size_t at = static_cast<size_t>(static_cast<const char*>(q) - data);
        size_t slashes = 0;
        while (at - slashes > i + 1 && data[at - slashes - 1] == '\\') ++slashes;
        j = at + 1;
        if (slashes % 2 == 0) break;
      }
      if (containers.size() == 1) root_key = text.substr(i + 1, j - i - 2);
      i = j;
      previous = 'v';
      continue;
    }
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    switch (c) {
      case '[': {
        const bool value_place = previous == 0 || previous == ':' || previous == '[' ||
                                 (previous == ',' && !containers.empty() && containers.back() == '[');
        if (!value_place || containers.size() + 1 > max_depth) return runs;
        const size_t first = values->size();
        if (size_t end = ReadNumberRun(text, i, values)) {
          const bool kept = !kept_member.empty() && previous == ':' && containers == "{" && root_key == kept_member;
          runs.push_back({i, end, first, values->size() - first, kept});
          i = end;
          previous = 'v';
          continue;
        }
        containers.push_back('[');
        break;
      }
      case '{':
        if (containers.size() + 1 > max_depth) return runs;
        containers.push_back('{');
        break;
      case ']':
      case '}':
        if (containers.empty() || containers.back() != (c == ']' ? '[' : '{')) return runs;
        containers.pop_back();
        previous = 'v';
        ++i;
        continue;
      default:
        break;
    }
    previous = (c == '[' || c == '{' || c == ',' || c == ':') ? c : 'v';
    ++i;
  }
  return runs;
}

// Builds the value tree as Boost.JSON's own handler does, but reads numbers with a fraction or an exponent
// exactly.
class Handler {
 public:
  static constexpr size_t max_object_size = static_cast<size_t>(-1);
  static constexpr size_t max_array_size = static_cast<size_t>(-1);
  static constexpr size_t max_key_size = static_cast<size_t>(-1);
  static constexpr size_t max_string_size = static_cast<size_t>(-1);

  json::value_stack stack;

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(size_t n, error_code&) {
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(size_t n, error_code&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, size_t, error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, size_t, error_code&) {
    stack.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, size_t, error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, size_t, error_code&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t i, json::string_view, error_code&) {
    number_.clear();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, json::string_view, error_code&) {
    number_.clear();
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, error_code&) {
    if (number_.empty()) {
      NearestDouble(s.data(), s.data() + s.size(), &d);
    } else {
      number_.append(s.data(), s.size());
      NearestDouble(number_.data(), number_.data() + number_.size(), &d);
      number_.clear();
    }
    stack.push_double(d);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }

 private:
  std::string number_;  // a number's text so far, when it is split across writes
};

// Puts each run read ahead where its placeholder string ("\0" and the run's number) stands in `v`.
void PlaceRuns(json::value& v, const std::vector<NumberRun>& runs, const std::vector<Number>& values) {
  if (json::string* s = v.if_string()) {
    if (s->empty() || (*s)[0] != '\0') return;
    size_t k = 0;
    std::from_chars(s->data() + 1, s->data() + s->size(), k);
    const NumberRun& r = runs[k];
    if (r.kept) return;
    json::array a(v.storage());
    a.resize(r.count);  // nulls, set in place below (cheaper than emplace_back or copies)
    for (size_t i = 0; i < r.count; ++i) {
      const Number& n = values[r.first + i];
      if (n.is_int) {
        a[i].emplace_int64() = n.i;
      } else {
        a[i].emplace_double() = n.d;
      }
    }
    v = std::move(a);
  } else if (json::array* a = v.if_array()) {
    for (json::value& x : *a) PlaceRuns(x, runs, values);
  } else if (json::object* o = v.if_object()) {
    for (json::key_value_pair& kv : *o) PlaceRuns(kv.value(), runs, values);
  }
}

// Feeds `text` to Boost.JSON's parser, with a placeholder string ("\0" and the run's number) in place of each
// run; null with `ec` (and `error_offset`) set when it is not valid JSON.
json::value Parse(std::string_view text, const std::vector<NumberRun>& runs, error_code& ec, size_t max_depth,
                  size_t* error_offset) {
  ec = {};
  json::parse_options options;
  options.max_depth = max_depth;
  json::basic_parser<Handler> parser(options);
  parser.handler().stack.reset(json::storage_ptr());
  size_t stopped = 0;
  // Feeds text[at, at + size) (or a placeholder standing there); false with `ec` and `stopped` set when the
  // parser stops.
  auto feed = [&](const char* data, size_t size, size_t at) {
    const size_t used = parser.write_some(true, data, size, ec);
    if (!ec && used < size) ec = json::error::extra_data;
    if (ec) stopped = at + std::min(used, size);
    return !ec;
  };
  size_t at = 0;
  bool ok = true;
  std::string placeholder;
  for (size_t k = 0; ok && k < runs.size(); ++k) {
    ok = feed(text.data() + at, runs[k].begin - at, at);
    placeholder = "\"\\u0000" + std::to_string(k) + "\"";
    ok = ok && feed(placeholder.data(), placeholder.size(), runs[k].begin);
    at = runs[k].end;
  }
  if (ok) ok = feed(text.data() + at, text.size() - at, at);
  if (ok) {
    parser.write_some(false, nullptr, 0, ec);
    if (ec) stopped = text.size();
  }
  if (ec || !parser.done()) {
    if (!ec) {
      ec = json::error::incomplete;
      stopped = text.size();
    }
    if (error_offset != nullptr) *error_offset = stopped;
    return nullptr;
  }
  return parser.handler().stack.release();
}

}  // namespace

const std::vector<double>* KeptNumbers::Find(const json::value& v) const {
  const json::string* s = v.if_string();
  if (s == nullptr || s->empty() || (*s)[0] != '\0') return nullptr;
  size_t k = 0;
  std::from_chars(s->data() + 1, s->data() + s->size(), k);
  for (const auto& [number, values] : arrays) {
    if (number == k) return &values;
  }
  return nullptr;
}

json::value ParseJson(std::string_view text, error_code& ec, size_t max_depth, size_t* error_offset,
                      KeptNumbers* kept) {
  std::vector<Number> values;
  values.reserve(std::min<size_t>(text.size() / 4, 1024));
  const std::vector<NumberRun> runs =
      FindNumberRuns(text, max_depth, kept != nullptr ? kept->member : std::string_view(), &values);
  json::value v = Parse(text, runs, ec, max_depth, error_offset);
  if (ec && !runs.empty()) {
    // Boost.JSON's error position can depend on where its input is split: report the one a single write gives.
    return Parse(text, {}, ec, max_depth, error_offset);
  }
  if (runs.empty()) return v;
  PlaceRuns(v, runs, values);
  for (size_t k = 0; k < runs.size(); ++k) {
    if (!runs[k].kept) continue;
    std::vector<double> numbers(runs[k].count);
    for (size_t i = 0; i < numbers.size(); ++i) {
      const Number& n = values[runs[k].first + i];
      numbers[i] = n.is_int ? static_cast<double>(n.i) : n.d;
    }
    kept->arrays.emplace_back(k, std::move(numbers));
  }
  return v;
}

}  // namespace quiver::payload
