#include "multipart.h"

#include <string>
#include <vector>

namespace quiver::server {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of parameter `name` in a header value ("multipart/form-data; boundary=xyz").
std::string Parameter(std::string_view header, std::string_view name) {
  const std::string lower = Lower(header);
  const std::string key = std::string(name) + "=";
  size_t pos = 0;
  while ((pos = lower.find(key, pos)) != std::string::npos) {
    if (pos == 0 || lower[pos - 1] == ';' || lower[pos - 1] == ' ') break;
    pos += key.size();
  }
  if (pos == std::string::npos) return "";
  std::string_view value = header.substr(pos + key.size());
  if (!value.empty() && value.front() == '"') {
    value.remove_prefix(1);
    return std::string(value.substr(0, value.find('"')));
  }
  return std::string(value.substr(0, value.find_first_of("; \t")));
}

}  // namespace

Result<std::string_view> MultipartField(std::string_view content_type, std::string_view body,
                                        std::string_view field) {
  if (Lower(content_type).rfind("multipart/form-data", 0) != 0) {
    return Status::InvalidArgument(
        "the snapshot must be uploaded as multipart/form-data (field 'snapshot'), got "
        "Content-Type '" +
        std::string(content_type) + "'");
  }
  const std::string boundary = Parameter(content_type, "boundary");
  if (boundary.empty()) return Status::InvalidArgument("multipart/form-data without a boundary");
  const std::string delimiter = "--" + boundary;
  struct Part {
    std::string name;
    std::string_view content;
  };
  std::vector<Part> parts;
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return Status::InvalidArgument("multipart body: no boundary line found");
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") break;  // the closing delimiter
    if (body.substr(pos, 2) != "\r\n")
      return Status::InvalidArgument("multipart body: malformed boundary line");
    pos += 2;
    const size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos)
      return Status::InvalidArgument("multipart body: a part has no header end");
    const std::string_view head = body.substr(pos, head_end - pos);
    const size_t content_start = head_end + 4;
    const size_t next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string_view::npos)
      return Status::InvalidArgument("multipart body: a part is not terminated");
    Part part;
    for (size_t line = 0; line < head.size();) {
      size_t end = head.find("\r\n", line);
      if (end == std::string_view::npos) end = head.size();
      const std::string_view h = head.substr(line, end - line);
      if (Lower(h.substr(0, 20)) == "content-disposition:") part.name = Parameter(h, "name");
      line = end + 2;
    }
    part.content = body.substr(content_start, next - content_start);
    parts.push_back(part);
    pos = next + 2;
  }
  for (const Part& p : parts) {
    if (p.name == field) return p.content;
  }
  if (parts.size() == 1) return parts[0].content;
  return Status::InvalidArgument("multipart body: no part named '" + std::string(field) + "'");
}

}  // namespace quiver::server
