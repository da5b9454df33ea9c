#include "readers.h"

#include <boost/json.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "quiver/api.h"

namespace quiver::cli {
namespace {

Status Bad(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where + ": " + what);
}

// A FILE* with its size, closed on destruction.
class File {
 public:
  static Result<File> Open(const std::string& path) {
    File f;
    f.path_ = path;
    if (path == "-") {
      f.f_ = stdin;
      f.owned_ = false;
      return f;
    }
    f.f_ = std::fopen(path.c_str(), "rb");
    if (!f.f_) {
      return errno == ENOENT ? Status::NotFound("cannot open '" + path + "': no such file")
                             : Status::IOError("cannot open '" + path + "': " + std::strerror(errno));
    }
    if (std::fseek(f.f_, 0, SEEK_END) == 0) {
      long n = std::ftell(f.f_);
      if (n >= 0) f.size_ = static_cast<uint64_t>(n);
      std::fseek(f.f_, 0, SEEK_SET);
    }
    return f;
  }
  File() = default;
  File(File&& o) noexcept : f_(o.f_), owned_(o.owned_), size_(o.size_), path_(std::move(o.path_)) {
    o.f_ = nullptr;
  }
  File& operator=(File&& o) noexcept {
    std::swap(f_, o.f_);
    std::swap(owned_, o.owned_);
    std::swap(size_, o.size_);
    std::swap(path_, o.path_);
    return *this;
  }
  ~File() {
    if (f_ && owned_) std::fclose(f_);
  }
  std::FILE* get() const { return f_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  double fraction() const {
    if (!size_) return -1;
    long pos = std::ftell(f_);
    return pos < 0 ? -1 : double(pos) / double(size_);
  }
  // Reads exactly n bytes; false at a clean end (0 bytes read); error for a partial read.
  Result<bool> ReadExact(void* dst, size_t n, const std::string& what) {
    size_t got = std::fread(dst, 1, n, f_);
    if (got == n) return true;
    if (std::ferror(f_)) return Status::IOError(path_ + ": read failed: " + std::strerror(errno));
    if (got == 0) return false;
    return Bad(path_, "the file ends inside " + what + " (truncated?)");
  }
  // Reads a line without its "\n" (and "\r"); false at the end.
  bool ReadLine(std::string* line) {
    line->clear();
    int ch;
    bool any = false;
    while ((ch = std::getc(f_)) != EOF) {
      any = true;
      if (ch == '\n') break;
      line->push_back(static_cast<char>(ch));
    }
    if (!line->empty() && line->back() == '\r') line->pop_back();
    return any;
  }

 private:
  std::FILE* f_ = nullptr;
  bool owned_ = true;
  uint64_t size_ = 0;
  std::string path_;
};

class FvecsReader : public Reader {
 public:
  static Result<std::unique_ptr<Reader>> Open(File file, uint64_t id_start) {
    auto r = std::make_unique<FvecsReader>();
    r->file_ = std::move(file);
    r->next_id_ = id_start;
    int32_t dim = 0;
    QUIVER_ASSIGN_OR_RETURN(bool any, r->file_.ReadExact(&dim, 4, "row 0's header"));
    if (!any) return Bad(r->file_.path(), "empty file: no vectors");
    if (dim <= 0 || dim > 65536) {
      return Bad(r->file_.path(),
                 "row 0 declares " + std::to_string(dim) + " dimensions; not an .fvecs file?");
    }
    r->dim_ = static_cast<uint32_t>(dim);
    const uint64_t row = 4 + uint64_t(r->dim_) * 4;
    if (r->file_.size()) {
      if (r->file_.size() % row != 0) {
        return Bad(r->file_.path(), "size " + std::to_string(r->file_.size()) +
                                        " is not a multiple of the row size " + std::to_string(row) + " (" +
                                        std::to_string(r->dim_) +
                                        " dimensions): truncated or not an .fvecs file");
      }
      r->total_ = r->file_.size() / row;
    }
    r->have_header_ = true;
    return std::unique_ptr<Reader>(std::move(r));
  }

  Result<bool> Next(size_t max, Batch* batch) override {
    batch->Clear();
    batch->dim = dim_;
    while (batch->ids.size() < max) {
      if (!have_header_) {
        int32_t d = 0;
        QUIVER_ASSIGN_OR_RETURN(bool any,
                                file_.ReadExact(&d, 4, "row " + std::to_string(row_) + "'s header"));
        if (!any) break;
        if (d != static_cast<int32_t>(dim_)) {
          return Bad(file_.path(), "row " + std::to_string(row_) + " has " + std::to_string(d) +
                                       " dimensions, the rows before it " + std::to_string(dim_));
        }
      }
      have_header_ = false;
      size_t at = batch->vectors.size();
      batch->vectors.resize(at + dim_);
      QUIVER_ASSIGN_OR_RETURN(
          bool ok, file_.ReadExact(&batch->vectors[at], size_t(dim_) * 4, "row " + std::to_string(row_)));
      if (!ok) return Bad(file_.path(), "the file ends inside row " + std::to_string(row_));
      batch->ids.push_back(PointId::Number(next_id_++));
      ++row_;
    }
    return !batch->ids.empty();
  }
  size_t total() const override { return total_; }
  double fraction() const override { return file_.fraction(); }
  uint32_t dim() const override { return dim_; }

 private:
  File file_;
  uint32_t dim_ = 0;
  uint64_t next_id_ = 0;
  size_t row_ = 0, total_ = 0;
  bool have_header_ = false;
};

class NpyReader : public Reader {
 public:
  static Result<std::unique_ptr<Reader>> Open(File file, uint64_t id_start) {
    auto r = std::make_unique<NpyReader>();
    r->file_ = std::move(file);
    r->next_id_ = id_start;
    const std::string& p = r->file_.path();
    unsigned char magic[8];
    QUIVER_ASSIGN_OR_RETURN(bool any, r->file_.ReadExact(magic, 8, "the header"));
    if (!any || std::memcmp(magic, "\x93NUMPY", 6) != 0) return Bad(p, "not a .npy file (bad magic)");
    uint32_t header_len = 0;
    if (magic[6] == 1) {
      unsigned char b[2];
      QUIVER_ASSIGN_OR_RETURN(bool ok, r->file_.ReadExact(b, 2, "the header"));
      if (!ok) return Bad(p, "truncated header");
      header_len = b[0] | (uint32_t(b[1]) << 8);
    } else if (magic[6] == 2 || magic[6] == 3) {
      unsigned char b[4];
      QUIVER_ASSIGN_OR_RETURN(bool ok, r->file_.ReadExact(b, 4, "the header"));
      if (!ok) return Bad(p, "truncated header");
      header_len = b[0] | (uint32_t(b[1]) << 8) | (uint32_t(b[2]) << 16) | (uint32_t(b[3]) << 24);
    } else {
      return Bad(p, "unsupported .npy version " + std::to_string(magic[6]));
    }
    if (header_len > (1u << 20)) return Bad(p, "header too long");
    std::string header(header_len, '\0');
    QUIVER_ASSIGN_OR_RETURN(bool ok, r->file_.ReadExact(header.data(), header_len, "the header"));
    if (!ok) return Bad(p, "truncated header");
    const uint64_t data_start = 8 + (magic[6] == 1 ? 2 : 4) + header_len;
    auto field = [&](const std::string& key) -> std::string {
      size_t k = header.find("'" + key + "'");
      if (k == std::string::npos) return "";
      size_t colon = header.find(':', k);
      if (colon == std::string::npos) return "";
      size_t start = header.find_first_not_of(' ', colon + 1);
      if (start == std::string::npos) return "";
      size_t end = header[start] == '('    ? header.find(')', start) + 1
                   : header[start] == '\'' ? header.find('\'', start + 1) + 1
                                           : header.find_first_of(",}", start);
      return header.substr(start, end - start);
    };
    std::string descr = field("descr"), order = field("fortran_order"), shape = field("shape");
    if (descr == "'<f4'")
      r->kind_ = kF32, r->item_ = 4;
    else if (descr == "'<f8'")
      r->kind_ = kF64, r->item_ = 8;
    else if (descr == "'|u1'" || descr == "'<u1'")
      r->kind_ = kU8, r->item_ = 1;
    else if (descr == "'|i1'" || descr == "'<i1'")
      r->kind_ = kI8, r->item_ = 1;
    else
      return Bad(p, "unsupported dtype " + descr + " (float32 '<f4', float64 '<f8', uint8, int8)");
    if (order != "False") return Bad(p, "Fortran-order arrays are not supported; save with C order");
    // shape "(n, d)"
    std::vector<uint64_t> dims;
    for (size_t i = 0; i < shape.size();) {
      if (std::isdigit(static_cast<unsigned char>(shape[i]))) {
        uint64_t v = 0;
        while (i < shape.size() && std::isdigit(static_cast<unsigned char>(shape[i])))
          v = v * 10 + uint64_t(shape[i++] - '0');
        dims.push_back(v);
      } else {
        ++i;
      }
    }
    if (dims.size() != 2) return Bad(p, "expected a 2-D array (points x dimensions), shape is " + shape);
    if (dims[1] == 0 || dims[1] > 65536) return Bad(p, "unsupported vector size " + std::to_string(dims[1]));
    r->total_ = dims[0];
    r->dim_ = static_cast<uint32_t>(dims[1]);
    const uint64_t expect = data_start + dims[0] * dims[1] * r->item_;
    if (r->file_.size() && r->file_.size() != expect) {
      return Bad(p, "size " + std::to_string(r->file_.size()) + " does not match its header (shape " + shape +
                        " needs " + std::to_string(expect) + " bytes): truncated?");
    }
    return std::unique_ptr<Reader>(std::move(r));
  }

  Result<bool> Next(size_t max, Batch* batch) override {
    batch->Clear();
    batch->dim = dim_;
    size_t n = std::min(max, total_ - row_);
    if (n == 0) return false;
    raw_.resize(n * dim_ * item_);
    QUIVER_ASSIGN_OR_RETURN(bool ok,
                            file_.ReadExact(raw_.data(), raw_.size(), "row " + std::to_string(row_)));
    if (!ok)
      return Bad(file_.path(),
                 "the file ends at row " + std::to_string(row_) + " of " + std::to_string(total_));
    batch->vectors.resize(n * dim_);
    float* out = batch->vectors.data();
    const size_t count = n * dim_;
    switch (kind_) {
      case kF32:
        std::memcpy(out, raw_.data(), count * 4);
        break;
      case kF64:
        for (size_t i = 0; i < count; ++i) {
          double d;
          std::memcpy(&d, raw_.data() + i * 8, 8);
          out[i] = static_cast<float>(d);
        }
        break;
      case kU8:
        for (size_t i = 0; i < count; ++i) out[i] = static_cast<float>(static_cast<uint8_t>(raw_[i]));
        break;
      case kI8:
        for (size_t i = 0; i < count; ++i) out[i] = static_cast<float>(static_cast<int8_t>(raw_[i]));
        break;
    }
    for (size_t i = 0; i < n; ++i) batch->ids.push_back(PointId::Number(next_id_++));
    row_ += n;
    return true;
  }
  size_t total() const override { return total_; }
  double fraction() const override { return total_ ? double(row_) / double(total_) : 1.0; }
  uint32_t dim() const override { return dim_; }

 private:
  enum Kind { kF32, kF64, kU8, kI8 };
  File file_;
  Kind kind_ = kF32;
  size_t item_ = 4;
  uint32_t dim_ = 0;
  uint64_t next_id_ = 0;
  size_t row_ = 0, total_ = 0;
  std::vector<char> raw_;
};

class JsonlReader : public Reader {
 public:
  explicit JsonlReader(File file) : file_(std::move(file)) {}

  Result<bool> Next(size_t max, Batch* batch) override {
    batch->Clear();
    batch->source = file_.path();
    batch->jsonl = "{\"points\":[";
    std::string line;
    while (batch->jsonl_lines.size() < max && file_.ReadLine(&line)) {
      ++line_no_;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (!batch->jsonl_lines.empty()) batch->jsonl.push_back(',');
      batch->jsonl_starts.push_back(batch->jsonl.size());
      batch->jsonl_lines.push_back(line_no_);
      batch->jsonl.append(line);
      batch->jsonl.push_back('\n');  // a line comment or an unclosed string cannot swallow the next line
    }
    batch->jsonl.append("]}");
    if (batch->jsonl_lines.empty()) batch->jsonl.clear();
    return !batch->jsonl_lines.empty();
  }
  double fraction() const override { return file_.fraction(); }

 private:
  File file_;
  size_t line_no_ = 0;
};

class CsvReader : public Reader {
 public:
  static Result<std::unique_ptr<Reader>> Open(File file, const ReaderOptions& options) {
    auto r = std::make_unique<CsvReader>();
    r->file_ = std::move(file);
    r->next_id_ = options.id_start;
    r->vector_name_ = options.vector_name;
    std::vector<std::string> header;
    QUIVER_ASSIGN_OR_RETURN(bool any, r->ReadRecord(&header));
    if (!any) return Bad(r->file_.path(), "empty file: expected a header row");
    for (size_t i = 0; i < header.size(); ++i) {
      const std::string& h = header[i];
      if (h == "id") {
        r->id_col_ = int(i);
      } else if (h == "vector") {
        r->vector_col_ = int(i);
      } else if (h.size() > 1 && h[0] == 'v' && h.find_first_not_of("0123456789", 1) == std::string::npos) {
        r->component_cols_.push_back({std::stoul(h.substr(1)), i});
      } else {
        r->payload_cols_.push_back({h, i});
      }
    }
    std::sort(r->component_cols_.begin(), r->component_cols_.end());
    if (r->vector_col_ < 0 && r->component_cols_.empty()) {
      return Bad(r->file_.path(),
                 "the header names no vector: expected a 'vector' column or columns v0, v1, ...");
    }
    r->columns_ = header.size();
    return std::unique_ptr<Reader>(std::move(r));
  }

  Result<bool> Next(size_t max, Batch* batch) override {
    batch->Clear();
    std::vector<std::string> cells;
    std::vector<float> vec;
    while (batch->points.size() < max) {
      QUIVER_ASSIGN_OR_RETURN(bool any, ReadRecord(&cells));
      if (!any) break;
      const std::string where = file_.path() + ":" + std::to_string(record_line_);
      if (cells.size() == 1 && cells[0].empty()) continue;  // blank line
      if (cells.size() != columns_) {
        return Bad(where,
                   "has " + std::to_string(cells.size()) + " fields, the header " + std::to_string(columns_));
      }
      PointInput p;
      if (id_col_ >= 0) {
        auto id = PointId::Parse(cells[id_col_]);
        if (!id.ok()) return Bad(where, "id: " + std::string(id.status().message()));
        p.id = *id;
      } else {
        p.id = PointId::Number(next_id_++);
      }
      vec.clear();
      if (vector_col_ >= 0) {
        std::string text = cells[vector_col_];
        if (!text.empty() && text[0] == '[') {
          boost::json::error_code ec;
          boost::json::value v = boost::json::parse(text, ec);
          if (ec || !v.is_array()) return Bad(where, "vector: malformed JSON array");
          for (const auto& x : v.get_array()) {
            if (!x.is_number())
              return Bad(where, "vector: element " + std::to_string(vec.size()) + " is not a number");
            vec.push_back(static_cast<float>(x.to_number<double>(ec)));
          }
        } else {
          for (char& ch : text) {
            if (ch == ';' || ch == ',') ch = ' ';
          }
          size_t i = 0;
          while (i < text.size()) {
            while (i < text.size() && text[i] == ' ') ++i;
            if (i >= text.size()) break;
            size_t j = text.find(' ', i);
            if (j == std::string::npos) j = text.size();
            QUIVER_ASSIGN_OR_RETURN(float f, Number(text.substr(i, j - i), where, "vector"));
            vec.push_back(f);
            i = j;
          }
        }
      } else {
        for (const auto& [k, col] : component_cols_) {
          QUIVER_ASSIGN_OR_RETURN(float f, Number(cells[col], where, "v" + std::to_string(k)));
          vec.push_back(f);
        }
      }
      p.vectors[vector_name_] = std::move(vec);
      vec = {};
      if (!payload_cols_.empty()) {
        boost::json::object o;
        for (const auto& [name, col] : payload_cols_) {
          const std::string& c = cells[col];
          if (c.empty()) continue;
          char* end = nullptr;
          errno = 0;
          if (c == "true" || c == "false") {
            o[name] = (c == "true");
          } else if (long long i = std::strtoll(c.c_str(), &end, 10); *end == '\0' && errno == 0) {
            o[name] = i;
          } else if (double d = std::strtod(c.c_str(), &end); *end == '\0' && std::isfinite(d)) {
            o[name] = d;
          } else {
            o[name] = c;
          }
        }
        p.payload = boost::json::serialize(o);
      }
      batch->points.push_back(std::move(p));
    }
    return !batch->points.empty();
  }
  double fraction() const override { return file_.fraction(); }

 private:
  static Result<float> Number(const std::string& s, const std::string& where, const std::string& what) {
    char* end = nullptr;
    float f = std::strtof(s.c_str(), &end);
    if (s.empty() || *end != '\0') return Bad(where, what + ": '" + s + "' is not a number");
    return f;
  }

  // One CSV record (RFC 4180: quoted fields may hold commas, doubled quotes and newlines).
  Result<bool> ReadRecord(std::vector<std::string>* cells) {
    cells->clear();
    std::string line;
    if (!file_.ReadLine(&line)) return false;
    record_line_ = ++line_no_;
    std::string cell;
    bool quoted = false;
    size_t i = 0;
    while (true) {
      if (i >= line.size()) {
        if (quoted) {
          if (!file_.ReadLine(&line))
            return Bad(file_.path() + ":" + std::to_string(record_line_), "unterminated quoted field");
          ++line_no_;
          cell.push_back('\n');
          i = 0;
          continue;
        }
        break;
      }
      char ch = line[i++];
      if (quoted) {
        if (ch == '"') {
          if (i < line.size() && line[i] == '"') {
            cell.push_back('"');
            ++i;
          } else {
            quoted = false;
          }
        } else {
          cell.push_back(ch);
        }
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == ',') {
        cells->push_back(std::move(cell));
        cell.clear();
      } else {
        cell.push_back(ch);
      }
    }
    cells->push_back(std::move(cell));
    return true;
  }

  File file_;
  uint64_t next_id_ = 0;
  std::string vector_name_;
  int id_col_ = -1, vector_col_ = -1;
  std::vector<std::pair<unsigned long, size_t>> component_cols_;
  std::vector<std::pair<std::string, size_t>> payload_cols_;
  size_t columns_ = 0, line_no_ = 0, record_line_ = 0;
};

std::string Extension(const std::string& path) {
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace

Result<std::unique_ptr<Reader>> OpenReader(const std::string& path, const ReaderOptions& options) {
  std::string format = options.format;
  if (format.empty()) {
    if (path == "-")
      return Status::InvalidArgument("reading stdin needs --format (jsonl, csv, fvecs or npy)");
    std::string ext = Extension(path);
    if (ext == "jsonl" || ext == "ndjson" || ext == "json")
      format = "jsonl";
    else if (ext == "csv")
      format = "csv";
    else if (ext == "fvecs")
      format = "fvecs";
    else if (ext == "npy")
      format = "npy";
    else
      return Status::InvalidArgument("cannot tell the format of '" + path +
                                     "' from its extension: give --format "
                                     "(jsonl, csv, fvecs or npy)");
  }
  if (format != "jsonl" && format != "csv" && format != "fvecs" && format != "npy") {
    return Status::InvalidArgument("unknown format '" + format + "' (jsonl, csv, fvecs or npy)");
  }
  QUIVER_ASSIGN_OR_RETURN(File file, File::Open(path));
  if (format == "fvecs") return FvecsReader::Open(std::move(file), options.id_start);
  if (format == "npy") return NpyReader::Open(std::move(file), options.id_start);
  if (format == "csv") return CsvReader::Open(std::move(file), options);
  return std::unique_ptr<Reader>(std::make_unique<JsonlReader>(std::move(file)));
}

void Batch::Truncate(size_t n) {
  if (!jsonl_lines.empty()) {
    if (n >= jsonl_lines.size()) return;
    jsonl.resize(n == 0 ? jsonl_starts[0] : jsonl_starts[n] - 1);  // drop the separating comma too
    jsonl.append("]}");
    jsonl_starts.resize(n);
    jsonl_lines.resize(n);
    return;
  }
  if (points.empty()) {
    ids.resize(std::min(ids.size(), n));
    vectors.resize(ids.size() * dim);
    if (!payloads.empty()) payloads.resize(ids.size());
  } else {
    points.resize(std::min(points.size(), n));
  }
}

Status Batch::Write(Collection& collection, const std::string& vector_name) const {
  if (jsonl_lines.empty()) {
    return points.empty() ? collection.UpsertDense(ids, vector_name, vectors, payloads) : collection.Upsert(points);
  }
  auto result = api::Call(collection, api::Operation::kUpsertPoints, {}, jsonl);
  if (result.ok()) {
    if (api::AffectedPoints(*result) != jsonl_lines.size()) {
      return Status::InvalidArgument(source + ": lines " + std::to_string(jsonl_lines.front()) + ".." +
                                     std::to_string(jsonl_lines.back()) +
                                     ": expected one JSON point per line (a line holds more than one value)");
    }
    return Status::OK();
  }
  // Name the line: "upsert.points[17].vector: ..." -> "file:line: vector: ...", and a JSON syntax error's offset.
  std::string msg(result.status().message());
  const std::string prefix = "upsert.points[";
  if (msg.rfind(prefix, 0) == 0) {
    size_t close = msg.find(']', prefix.size());
    size_t index = std::stoul(msg.substr(prefix.size(), close - prefix.size()));
    std::string rest = msg.substr(close + 1);
    if (rest.rfind(".", 0) == 0) rest = rest.substr(1);
    if (rest.rfind(": ", 0) == 0) rest = rest.substr(2);
    if (index < jsonl_lines.size()) {
      return Status(result.status().code(), source + ":" + std::to_string(jsonl_lines[index]) + ": " + rest);
    }
  }
  if (size_t at = msg.rfind(" at offset "); at != std::string::npos && msg.rfind("upsert: malformed JSON", 0) == 0) {
    const size_t offset = std::stoul(msg.substr(at + 11));
    auto it = std::upper_bound(jsonl_starts.begin(), jsonl_starts.end(), offset);
    const size_t index = it == jsonl_starts.begin() ? 0 : size_t(it - jsonl_starts.begin()) - 1;
    return Status(result.status().code(), source + ":" + std::to_string(jsonl_lines[index]) + ": " +
                                              msg.substr(8, at - 8));
  }
  return result.status().WithContext(source);
}

}  // namespace quiver::cli
