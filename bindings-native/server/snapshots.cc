#include "snapshots.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>

#include "crypto.h"

namespace quiver::server {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kSuffix = ".snapshot";
constexpr std::string_view kChecksumSuffix = ".checksum";

bool ValidName(std::string_view name) {
  if (name.size() <= kSuffix.size() || name.size() > 255 || name.front() == '.') return false;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool ValidCollection(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
         });
}

std::string UtcTime(std::time_t t, const char* format) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

Status WriteSynced(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::IOError("cannot write " + tmp + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::IOError("cannot write " + path);
  }
  return Status::OK();
}

}  // namespace

Result<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      ::close(fd);
      return Status::IOError("cannot read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string SnapshotJson(const SnapshotDescription& d) {
  boost::json::object o{
      {"name", d.name}, {"creation_time", d.creation_time}, {"size", d.size}, {"checksum", d.checksum}};
  return boost::json::serialize(o);
}

SnapshotStore::SnapshotStore(std::string root) : root_(std::move(root)) {}

Result<SnapshotDescription> SnapshotStore::Create(const Collection& collection) {
  QUIVER_ASSIGN_OR_RETURN(std::string bytes, collection.CreateSnapshot());
  const std::string dir = root_ + "/" + collection.name();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  SnapshotDescription d;
  d.name = collection.name() + "-" + std::to_string(rng() % 10000000000000000ull) + "-" +
           UtcTime(t, "%Y-%m-%d-%H-%M-%S") + std::string(kSuffix);
  d.size = bytes.size();
  d.checksum = Hex(Sha256(bytes));
  const std::string path = dir + "/" + d.name;
  QUIVER_RETURN_IF_ERROR(WriteSynced(path + std::string(kChecksumSuffix), d.checksum));
  QUIVER_RETURN_IF_ERROR(WriteSynced(path, bytes));
  // The listing reports the file's modification time, so the answer here does too: the write can end in
  // the second after the one the name was stamped with.
  struct stat st {};
  d.creation_time = UtcTime(::stat(path.c_str(), &st) == 0 ? st.st_mtime : t, "%Y-%m-%dT%H:%M:%S");
  return d;
}

Result<std::vector<SnapshotDescription>> SnapshotStore::List(std::string_view collection) const {
  std::vector<SnapshotDescription> out;
  if (!ValidCollection(collection)) return out;
  const std::string dir = root_ + "/" + std::string(collection);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!ValidName(name) || !entry.is_regular_file()) continue;
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0) continue;
    SnapshotDescription d;
    d.name = name;
    d.size = static_cast<uint64_t>(st.st_size);
    d.creation_time = UtcTime(st.st_mtime, "%Y-%m-%dT%H:%M:%S");
    if (auto sum = ReadWholeFile(entry.path().string() + std::string(kChecksumSuffix)); sum.ok())
      d.checksum = *sum;
    out.push_back(std::move(d));
  }
  if (ec) return Status::IOError("cannot list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Result<std::string> SnapshotStore::PathOf(std::string_view collection, std::string_view name) const {
  if (!ValidName(name) || !ValidCollection(collection)) {
    std::string message(1, '\'');
    message.append(name).append("' is not a snapshot name");
    return Status::InvalidArgument(message);
  }
  std::string path = root_;
  path.append("/").append(collection).append("/").append(name);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::NotFound("Snapshot " + std::string(name) + " of collection " + std::string(collection) +
                            " does not exist");
  }
  return path;
}

Status SnapshotStore::Delete(std::string_view collection, std::string_view name) {
  QUIVER_ASSIGN_OR_RETURN(std::string path, PathOf(collection, name));
  if (::unlink(path.c_str()) != 0)
    return Status::IOError("cannot delete " + path + ": " + std::strerror(errno));
  ::unlink((path + std::string(kChecksumSuffix)).c_str());
  return Status::OK();
}

Result<std::string> SnapshotStore::ResolveLocation(std::string_view location) const {
  std::string_view path = location;
  if (location.substr(0, 7) == "http://" || location.substr(0, 8) == "https://") {
    return Status::NotSupported(
        "location: quiverd does not download snapshots over http(s); upload the file with "
        "POST /collections/{name}/snapshots/upload instead");
  }
  if (location.substr(0, 7) == "file://") path = location.substr(7);
  if (path.empty() || path.front() != '/') {
    return Status::InvalidArgument("location: expected a file:// URL or an absolute path, got '" +
                                   std::string(location) + "'");
  }
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(fs::path(std::string(path)), ec);
  const fs::path root = fs::weakly_canonical(fs::path(root_), ec);
  const std::string r = resolved.string(), base = root.string() + "/";
  if (ec || r.compare(0, base.size(), base) != 0) {
    return Status::InvalidArgument("location: only files inside the snapshots folder (" + root.string() +
                                   ") can be recovered from");
  }
  if (!fs::is_regular_file(resolved, ec)) return Status::NotFound("location: " + r + " does not exist");
  return r;
}

Status RestoreReplacing(Database& db, std::string_view name, std::string_view bytes,
                        std::string_view checksum) {
  if (!checksum.empty()) {
    const std::string actual = Hex(Sha256(bytes));
    std::string expected(checksum);
    std::transform(expected.begin(), expected.end(), expected.begin(), ::tolower);
    if (actual != expected) {
      return Status::InvalidArgument("checksum: the snapshot's SHA-256 is " + actual + ", not " + expected);
    }
  }
  if (db.CollectionExists(name)) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    const std::string scratch = "quiverd-restore-" + std::to_string(rng());
    QUIVER_RETURN_IF_ERROR(db.RestoreSnapshot(scratch, bytes));
    QUIVER_RETURN_IF_ERROR(db.DeleteCollection(scratch));
    QUIVER_RETURN_IF_ERROR(db.DeleteCollection(name));
  }
  return db.RestoreSnapshot(name, bytes);
}

}  // namespace quiver::server
