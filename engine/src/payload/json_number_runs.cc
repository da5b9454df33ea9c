#include "payload/json_number_runs.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value_stack.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace quiver::payload {
namespace {

namespace json = boost::json;

// One number as Boost.JSON's parser hands it on: an int64 (an integer without '.' or exponent) or a double.
struct Number {
  double d;
  int64_t i;
  bool is_double;
};

// The runs a pre-pass found: the text with each run's contents blanked, and for run k the index of its '['
// among the text's '[' outside strings and its numbers [ends[k-1], ends[k]).
struct Runs {
  std::string blanked;
  std::vector<size_t> brackets;
  std::vector<size_t> ends;
  std::vector<Number> numbers;
};

bool IsDigit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view t, size_t i) {
  while (i < t.size() && IsSpace(t[i])) ++i;
  return i;
}

// Reads the number at t[i]; the index after it, or 0 when it is not a number this reads. Mirrors
// basic_parser<>::parse_number of Boost.JSON 1.81: with at least 33 bytes left after the sign it takes a fast
// path that appends up to 16 fraction digits to the mantissa unconditionally when the integer digits (none for
// a leading 0) and those number fewer than 19; otherwise, and for the digits after those, a fraction digit is
// appended only while the mantissa is at most 2^53-1, and the digits after the first one refused are dropped.
size_t ReadNumber(std::string_view t, size_t i, Number* out) {
  const size_t n = t.size();
  bool neg = false;
  if (t[i] == '-') {
    neg = true;
    if (++i == n) return 0;
  }
  const bool fast = n - i >= 16 + 1 + 16;
  uint64_t mant = 0;
  size_t int_digits = 0;
  if (t[i] == '0') {
    ++i;
  } else if (IsDigit(t[i])) {
    while (i < n && IsDigit(t[i])) {
      if (++int_digits > 15) return 0;
      mant = 10 * mant + static_cast<uint64_t>(t[i] - '0');
      ++i;
    }
  } else {
    return 0;
  }
  if (i == n) return 0;
  bool is_double = false;
  int32_t bias = 0;
  if (t[i] == '.') {
    is_double = true;
    ++i;
    const size_t first = i;
    while (i < n && IsDigit(t[i])) ++i;
    const size_t frac_digits = i - first;
    if (frac_digits == 0) return 0;
    size_t head = 0;
    if (fast) {
      const size_t counted = frac_digits < 16 ? frac_digits : 16;
      if (int_digits + counted < 19) head = counted;
    }
    for (size_t k = 0; k < frac_digits; ++k) {
      if (k >= head && mant > 9007199254740991ULL) break;
      mant = 10 * mant + static_cast<uint64_t>(t[first + k] - '0');
      --bias;
    }
    if (i == n) return 0;
  }
  int32_t exp = 0;
  if ((t[i] | 32) == 'e') {
    is_double = true;
    if (++i == n) return 0;
    bool exp_neg = false;
    if (t[i] == '+') {
      ++i;
    } else if (t[i] == '-') {
      exp_neg = true;
      ++i;
    }
    size_t exp_digits = 0;
    while (i < n && IsDigit(t[i])) {
      if (++exp_digits > 4) return 0;
      exp = 10 * exp + (t[i] - '0');
      ++i;
    }
    if (exp_digits == 0) return 0;
    if (exp_neg) exp = -exp;
  }
  out->is_double = is_double;
  if (is_double) {
    out->d = json::detail::dec_to_float(mant, bias + exp, neg);
  } else {
    out->i = neg ? -static_cast<int64_t>(mant) : static_cast<int64_t>(mant);
  }
  return i;
}

// Reads the array whose '[' is t[i] if it holds only numbers ReadNumber reads: the index after its ']', or 0
// (then `numbers` may hold some of its numbers at the end).
size_t ReadRun(std::string_view t, size_t i, std::vector<Number>* numbers) {
  ++i;
  for (;;) {
    i = SkipSpace(t, i);
    if (i == t.size()) return 0;
    Number x;
    i = ReadNumber(t, i, &x);
    if (i == 0) return 0;
    numbers->push_back(x);
    i = SkipSpace(t, i);
    if (i == t.size()) return 0;
    if (t[i] == ']') return i + 1;
    if (t[i] != ',') return 0;
    ++i;
  }
}

void FindRuns(std::string_view t, Runs* runs) {
  size_t bracket = 0;
  size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '"') {
      ++i;
      while (i < t.size() && t[i] != '"') i += t[i] == '\\' ? 2 : 1;
      ++i;
    } else if (c == '[') {
      const size_t before = runs->numbers.size();
      const size_t after = ReadRun(t, i, &runs->numbers);
      if (after != 0 && runs->numbers.size() - before >= kMinNumberRun) {
        if (runs->blanked.empty()) runs->blanked.assign(t);
        std::memset(&runs->blanked[i + 1], ' ', after - i - 2);
        runs->brackets.push_back(bracket);
        runs->ends.push_back(runs->numbers.size());
        i = after;
      } else {
        runs->numbers.resize(before);
        ++i;
      }
      ++bracket;
    } else {
      ++i;
    }
  }
}

// Boost.JSON's parser handler (boost/json/detail/impl/handler.ipp), except that an array the pre-pass read
// (blanked, so its end follows its begin) is given the pre-pass's numbers.
class RunHandler {
 public:
  static constexpr size_t max_object_size = json::object::max_size();
  static constexpr size_t max_array_size = json::array::max_size();
  static constexpr size_t max_key_size = json::string::max_size();
  static constexpr size_t max_string_size = json::string::max_size();

  explicit RunHandler(const Runs* runs) : runs_(runs) {}

  json::value_stack st;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(size_t n, json::error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) {
    pending_ = next_ < runs_->brackets.size() && runs_->brackets[next_] == bracket_;
    ++bracket_;
    return true;
  }
  bool on_array_end(size_t n, json::error_code&) {
    if (!pending_) {
      st.push_array(n);
      return true;
    }
    pending_ = false;
    const size_t from = next_ == 0 ? 0 : runs_->ends[next_ - 1];
    const size_t to = runs_->ends[next_];
    ++next_;
    for (size_t k = from; k < to; ++k) {
      const Number& x = runs_->numbers[k];
      if (x.is_double) {
        st.push_double(x.d);
      } else {
        st.push_int64(x.i);
      }
    }
    st.push_array(to - from);
    return true;
  }
  bool on_key_part(json::string_view s, size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, size_t, json::error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(int64_t i, json::string_view, json::error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, json::string_view, json::error_code&) {
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  const Runs* runs_;
  size_t bracket_ = 0;  // arrays begun so far
  size_t next_ = 0;     // the next run
  bool pending_ = false;
};

}  // namespace

JsonParseOutcome ParseJsonValue(std::string_view text, const json::parse_options& options, bool number_runs) {
  JsonParseOutcome out;
  Runs runs;
  // Shorter texts cannot hold a run worth the pre-pass.
  if (number_runs && text.size() >= 4 * kMinNumberRun) FindRuns(text, &runs);
  if (runs.brackets.empty()) {
    json::stream_parser parser(json::storage_ptr(), options);
    out.offset = parser.write(text.data(), text.size(), out.ec);
    if (!out.ec) {
      parser.finish(out.ec);
      out.offset = text.size();
    }
    out.done = parser.done();
    if (!out.ec && out.done) out.value = parser.release();
    return out;
  }
  // As stream_parser::write and finish do, on the blanked text (the same length).
  json::basic_parser<RunHandler> parser(options, &runs);
  parser.handler().st.reset(json::storage_ptr());
  const std::string_view t = runs.blanked;
  out.offset = parser.write_some(true, t.data(), t.size(), out.ec);
  if (!out.ec && out.offset < t.size()) {
    out.ec = json::error::extra_data;
    parser.fail(out.ec);
  }
  if (!out.ec) {
    parser.write_some(false, nullptr, 0, out.ec);
    out.offset = t.size();
  }
  out.done = parser.done();
  if (!out.ec && out.done) out.value = parser.handler().st.release();
  return out;
}

}  // namespace quiver::payload
