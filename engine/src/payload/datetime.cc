#include "payload/datetime.h"

#include <cstdio>

namespace quiver::payload {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yoe + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// chrono's NaiveDate range (the years Qdrant can represent).
constexpr int64_t kMinYear = -262143;
constexpr int64_t kMaxYear = 262142;

// The fields one parse attempt reads. `offset` is in seconds east of UTC, 0 for a naive (UTC) time.
struct Fields {
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, nanos = 0;
  int64_t offset = 0;
};

// A cursor over the text with the scanning steps of chrono's parser (format/parse.rs, format/scan.rs), which
// Qdrant's DateTimeWrapper::from_str drives.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool AtEnd() const { return pos_ == s_.size(); }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

  // Rust's str::trim_start: skips characters with the Unicode White_Space property.
  void SkipSpaces() {
    while (size_t n = SpaceAt()) pos_ += n;
  }

  // A literal: exactly this byte.
  bool Char(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }

  // scan::number: 1 to max_digits ASCII digits (stops at the first non-digit or after max_digits).
  bool Number(size_t max_digits, int64_t* out) {
    size_t n = 0;
    int64_t v = 0;
    while (n < max_digits && pos_ < s_.size() && IsDigit(s_[pos_])) {
      if (v > kTooBig) return false;  // beyond any year chrono accepts
      v = v * 10 + (s_[pos_] - '0');
      ++pos_;
      ++n;
    }
    *out = v;
    return n > 0;
  }

  // A numeric item (Month, Day, Hour, Minute, Second): leading white space, then 1 or 2 digits.
  bool Numeric2(int64_t* out) {
    SkipSpaces();
    return Number(2, out);
  }

  // The Year item: leading white space, then a sign and any number of digits, or 1 to 4 digits.
  bool Year(int64_t* out) {
    SkipSpaces();
    if (Char('-')) {
      if (!Number(SIZE_MAX, out)) return false;
      *out = -*out;
      return true;
    }
    if (Char('+')) return Number(SIZE_MAX, out);
    return Number(4, out);
  }

  // `%.f` (Fixed::Nanosecond): optionally '.' and at least one digit; digits past the ninth are skipped.
  bool Fraction(int64_t* nanos) {
    if (!Char('.')) return true;
    size_t digits = 0;
    int64_t v = 0;
    while (pos_ < s_.size() && IsDigit(s_[pos_])) {
      if (digits < 9) v = v * 10 + (s_[pos_] - '0');
      ++digits;
      ++pos_;
    }
    if (digits == 0) return false;
    for (size_t i = digits; i < 9; ++i) v *= 10;
    *nanos = v;
    return true;
  }

  // scan::timezone_offset: `Z`/`z` (when allowed), or a sign (`+`, `-` or U+2212 MINUS SIGN), two hour
  // digits, a separator (`colon_or_space`: any run of ':' and white space; otherwise exactly one ':'), and
  // two minute digits (first 0-5), which may be missing at the end of the text when `allow_missing_minutes`.
  bool Offset(bool colon_or_space, bool allow_missing_minutes, int64_t* seconds) {
    if (Peek('Z') || Peek('z')) {
      ++pos_;
      *seconds = 0;
      return true;
    }
    bool negative;
    if (Char('+')) {
      negative = false;
    } else if (Char('-')) {
      negative = true;
    } else if (s_.substr(pos_, 3) == "\xE2\x88\x92") {
      pos_ += 3;
      negative = true;
    } else {
      return false;
    }
    if (s_.size() - pos_ < 2 || !IsDigit(s_[pos_]) || !IsDigit(s_[pos_ + 1])) return false;
    const int64_t hours = (s_[pos_] - '0') * 10 + (s_[pos_ + 1] - '0');
    pos_ += 2;
    if (colon_or_space) {
      while (pos_ < s_.size()) {
        if (s_[pos_] == ':') {
          ++pos_;
        } else if (size_t n = SpaceAt()) {
          pos_ += n;
        } else {
          break;
        }
      }
    } else if (!Char(':')) {
      return false;
    }
    int64_t minutes = 0;
    const size_t left = s_.size() - pos_;
    if (left >= 2) {
      const char m1 = s_[pos_], m2 = s_[pos_ + 1];
      if (m1 < '0' || m1 > '5' || !IsDigit(m2)) return false;
      minutes = (m1 - '0') * 10 + (m2 - '0');
      pos_ += 2;
    } else if (!allow_missing_minutes || left == 1) {
      return false;
    }
    const int64_t value = hours * 3600 + minutes * 60;
    *seconds = negative ? -value : value;
    return true;
  }

  // "UTC" in any case (the relaxed RFC 3339 parser's extra zone name).
  bool Utc() {
    if (s_.size() - pos_ < 3) return false;
    for (size_t i = 0; i < 3; ++i) {
      if ((s_[pos_ + i] | 0x20) != "utc"[i]) return false;
    }
    pos_ += 3;
    return true;
  }

 private:
  static constexpr int64_t kTooBig = 100'000'000;

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  // The byte length of a White_Space character at pos_ in UTF-8, or 0.
  size_t SpaceAt() const {
    if (pos_ >= s_.size()) return 0;
    const auto b = [&](size_t i) { return pos_ + i < s_.size() ? static_cast<uint8_t>(s_[pos_ + i]) : 0; };
    const uint8_t c = b(0);
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return 1;
    if (c == 0xC2 && (b(1) == 0x85 || b(1) == 0xA0)) return 2;  // U+0085, U+00A0
    if (c == 0xE1 && b(1) == 0x9A && b(2) == 0x80) return 3;    // U+1680
    if (c == 0xE2 && b(1) == 0x80) {
      const uint8_t t = b(2);  // U+2000-200A, U+2028, U+2029, U+202F
      return (t >= 0x80 && t <= 0x8A) || t == 0xA8 || t == 0xA9 || t == 0xAF ? 3 : 0;
    }
    if (c == 0xE2 && b(1) == 0x81 && b(2) == 0x9F) return 3;  // U+205F
    if (c == 0xE3 && b(1) == 0x80 && b(2) == 0x80) return 3;  // U+3000
    return 0;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Year, '-', month, '-', day as strftime's "%Y-%m-%d" reads them.
bool StrftimeDate(Cursor* c, Fields* f) {
  return c->Year(&f->year) && c->Char('-') && c->Numeric2(&f->month) && c->Char('-') && c->Numeric2(&f->day);
}

// chrono's DateTime::parse_from_rfc3339: four-digit year, two-digit fields, `T`, `t` or a space between date
// and time, seconds required, `Z`/`z` or `±HH:MM`.
bool Rfc3339(std::string_view s, Fields* f) {
  if (s.size() < 19) return false;
  auto digits = [&](size_t at, size_t n, int64_t* out) {
    int64_t v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  if (!digits(0, 4, &f->year) || s[4] != '-' || !digits(5, 2, &f->month) || s[7] != '-' ||
      !digits(8, 2, &f->day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, &f->hour) ||
      s[13] != ':' || !digits(14, 2, &f->minute) || s[16] != ':' || !digits(17, 2, &f->second)) {
    return false;
  }
  Cursor c(s.substr(19));
  return c.Fraction(&f->nanos) && c.Offset(/*colon_or_space=*/false, false, &f->offset) && c.AtEnd();
}

// chrono's DateTime<FixedOffset>::from_str (parse_rfc3339_relaxed): fields of 1 or 2 digits (a year as "%Y"
// reads it), white space allowed before and between them, seconds required, then `UTC`, `Z` or an offset
// whose colon may be missing or spaced, with white space before it and after it.
bool Rfc3339Relaxed(std::string_view s, Fields* f) {
  Cursor c(s);
  if (!c.Year(&f->year)) return false;
  c.SkipSpaces();
  if (!c.Char('-') || !c.Numeric2(&f->month)) return false;
  c.SkipSpaces();
  if (!c.Char('-') || !c.Numeric2(&f->day)) return false;
  if (!c.Char('T') && !c.Char('t') && !c.Char(' ')) return false;
  if (!c.Numeric2(&f->hour)) return false;
  c.SkipSpaces();
  if (!c.Char(':') || !c.Numeric2(&f->minute)) return false;
  c.SkipSpaces();
  if (!c.Char(':') || !c.Numeric2(&f->second) || !c.Fraction(&f->nanos)) return false;
  c.SkipSpaces();
  if (!c.Utc() && !c.Offset(/*colon_or_space=*/true, false, &f->offset)) return false;
  c.SkipSpaces();
  return c.AtEnd();
}

// "%Y-%m-%d<sep>%H:%M:%S%.f%#z" with sep 'T' (a literal) or ' ' (any run of white space, even none): the
// offset is `Z`/`z` or `±HH[:MM]`, white space before it allowed.
bool StrftimeWithOffset(std::string_view s, bool t_separator, Fields* f) {
  Cursor c(s);
  if (!StrftimeDate(&c, f)) return false;
  if (t_separator) {
    if (!c.Char('T')) return false;
  } else {
    c.SkipSpaces();
  }
  if (!c.Numeric2(&f->hour) || !c.Char(':') || !c.Numeric2(&f->minute) || !c.Char(':') ||
      !c.Numeric2(&f->second) || !c.Fraction(&f->nanos)) {
    return false;
  }
  c.SkipSpaces();
  return c.Offset(/*colon_or_space=*/true, /*allow_missing_minutes=*/true, &f->offset) && c.AtEnd();
}

// The naive forms, read as UTC: "%Y-%m-%d<sep>%H:%M[:%S%.f]" with sep 'T' or white space, or "%Y-%m-%d".
bool Naive(std::string_view s, bool t_separator, bool with_seconds, Fields* f) {
  Cursor c(s);
  if (!StrftimeDate(&c, f)) return false;
  if (t_separator) {
    if (!c.Char('T')) return false;
  } else {
    c.SkipSpaces();
  }
  if (!c.Numeric2(&f->hour) || !c.Char(':') || !c.Numeric2(&f->minute)) return false;
  if (with_seconds && (!c.Char(':') || !c.Numeric2(&f->second) || !c.Fraction(&f->nanos))) return false;
  return c.AtEnd();
}

bool NaiveDate(std::string_view s, Fields* f) {
  Cursor c(s);
  return StrftimeDate(&c, f) && c.AtEnd();
}

// The instant the fields name, or nullopt when a field is out of range or the instant is outside chrono's.
std::optional<int64_t> Instant(const Fields& f) {
  if (f.year < kMinYear || f.year > kMaxYear || f.month < 1 || f.month > 12 || f.day < 1 ||
      f.day > DaysInMonth(f.year, f.month) || f.hour > 23 || f.minute > 59 || f.second > 60 ||
      f.offset <= -86400 || f.offset >= 86400) {
    return std::nullopt;
  }
  // A leap second is 59 seconds and a second's worth of nanoseconds, which counts as the next minute's first.
  const bool leap = f.second == 60;
  const int64_t seconds = DaysFromCivil(f.year, f.month, f.day) * 86400 + f.hour * 3600 + f.minute * 60 +
                          (leap ? 59 : f.second) - f.offset;
  if (seconds < DaysFromCivil(kMinYear, 1, 1) * 86400 ||
      seconds >= DaysFromCivil(kMaxYear + 1, 1, 1) * 86400) {
    return std::nullopt;
  }
  return (seconds + (leap ? 1 : 0)) * 1000000 + f.nanos / 1000;
}

}  // namespace

std::optional<int64_t> ParseDatetime(std::string_view s) {
  // Qdrant's order of attempts; the first form that reads the whole text decides.
  using Attempt = bool (*)(std::string_view, Fields*);
  static constexpr Attempt kAttempts[] = {
      Rfc3339,
      Rfc3339Relaxed,
      [](std::string_view t, Fields* f) { return StrftimeWithOffset(t, /*t_separator=*/true, f); },
      [](std::string_view t, Fields* f) { return StrftimeWithOffset(t, /*t_separator=*/false, f); },
      [](std::string_view t, Fields* f) { return Naive(t, /*t_separator=*/true, /*with_seconds=*/true, f); },
      [](std::string_view t, Fields* f) { return Naive(t, /*t_separator=*/false, /*with_seconds=*/true, f); },
      [](std::string_view t, Fields* f) { return Naive(t, /*t_separator=*/true, /*with_seconds=*/false, f); },
      [](std::string_view t, Fields* f) {
        return Naive(t, /*t_separator=*/false, /*with_seconds=*/false, f);
      },
      NaiveDate,
  };
  for (Attempt attempt : kAttempts) {
    Fields f;
    if (!attempt(s, &f)) continue;
    if (std::optional<int64_t> t = Instant(f)) return t;
  }
  return std::nullopt;
}

std::string FormatDatetime(int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y, m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[80];
  // Years outside 0000-9999 carry a sign, as chrono prints them.
  std::snprintf(buf, sizeof(buf),
                y >= 0 && y <= 9999 ? "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ"
                                    : "%+05lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60), static_cast<long long>(frac));
  return buf;
}

}  // namespace quiver::payload
