// The POSIX backend: one folder of the host's file system. Natively it maps files with mmap and locks with
// flock; inside WASM the same calls run on Emscripten's file systems (MEMFS, IDBFS, NODEFS).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "storage/storage.h"

namespace quiver::storage {
namespace {

Status PosixError(const std::string& context, int err) {
  if (err == ENOENT) return Status::NotFound(context + ": " + std::strerror(err));
  if (err == ENOSPC) return Status::ResourceExhausted(context + ": " + std::strerror(err));
  return Status::IOError(context + ": " + std::strerror(err));
}

Status CheckName(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos || name == "." || name == "..") {
    return Status::InvalidArgument("bad file name '" + std::string(name) + "'");
  }
  return Status::OK();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) (void)Close();
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::FailedPrecondition(path_ + " is closed");
    size_ += data.size();
    if (buffer_.size() + data.size() <= kBufferSize) {
      buffer_.append(data);
      return Status::OK();
    }
    QUIVER_RETURN_IF_ERROR(Flush());
    if (data.size() < kBufferSize) {
      buffer_.append(data);
      return Status::OK();
    }
    return WriteAll(data);
  }

  Status Flush() override {
    if (fd_ < 0) return Status::FailedPrecondition(path_ + " is closed");
    Status s = WriteAll(buffer_);
    buffer_.clear();
    return s;
  }

  Status Sync() override {
    QUIVER_RETURN_IF_ERROR(Flush());
    if (::fdatasync(fd_) != 0) return PosixError("sync " + path_, errno);
    return Status::OK();
  }

  Status SyncFlushed() override {
    const int fd = fd_;
    if (fd < 0) return Status::FailedPrecondition(path_ + " is closed");
    if (::fdatasync(fd) != 0) return PosixError("sync " + path_, errno);
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    Status s = Flush();
    if (::close(fd_) != 0 && s.ok()) s = PosixError("close " + path_, errno);
    fd_ = -1;
    return s;
  }

  uint64_t size() const override { return size_; }

 private:
  static constexpr size_t kBufferSize = 64 * 1024;

  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("write " + path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }

  std::string path_;
  int fd_;
  uint64_t size_;
  std::string buffer_;
};

class MappedBytes final : public FileBytes {
 public:
  MappedBytes(void* p, size_t n) : p_(p), n_(n) {}
  ~MappedBytes() override {
    if (n_) ::munmap(p_, n_);
  }
  std::span<const uint8_t> bytes() const override { return {static_cast<const uint8_t*>(p_), n_}; }

 private:
  void* p_;
  size_t n_;
};

// Paths locked by this process: flock already excludes other processes, this set also refuses a second lock
// in the same process (and gives the rule where flock is a no-op, as in WASM).
std::mutex& LockedMutex() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& LockedPaths() {
  static std::set<std::string> paths;
  return paths;
}

class PosixLock final : public FileLock {
 public:
  PosixLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    std::lock_guard<std::mutex> lock(LockedMutex());
    LockedPaths().erase(path_);
  }

 private:
  std::string path_;
  int fd_;
};

class PosixStorage final : public Storage {
 public:
  explicit PosixStorage(std::string root) : root_(std::move(root)) {}

  Result<std::vector<std::string>> List() override {
    DIR* dir = ::opendir(root_.c_str());
    if (dir == nullptr) return PosixError("list " + root_, errno);
    std::vector<std::string> out;
    while (dirent* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(std::move(name));
    }
    ::closedir(dir);
    std::sort(out.begin(), out.end());
    return out;
  }

  Result<bool> Exists(std::string_view name) override {
    QUIVER_RETURN_IF_ERROR(CheckName(name));
    struct stat st;
    if (::stat(Path(name).c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return PosixError("stat " + Path(name), errno);
  }

  Result<uint64_t> FileSize(std::string_view name) override {
    QUIVER_RETURN_IF_ERROR(CheckName(name));
    struct stat st;
    if (::stat(Path(name).c_str(), &st) != 0) return PosixError("stat " + Path(name), errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::string> ReadFile(std::string_view name) override {
    QUIVER_RETURN_IF_ERROR(CheckName(name));
    const std::string path = Path(name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    std::string out;
    struct stat st;
    if (::fstat(fd, &st) == 0) out.reserve(static_cast<size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return PosixError("read " + path, err);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  Result<std::unique_ptr<FileBytes>> Map(std::string_view name) override {
    QUIVER_RETURN_IF_ERROR(CheckName(name));
    const std::string path = Path(name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("stat " + path, err);
    }
    const size_t n = static_cast<size_t>(st.st_size);
    void* p = nullptr;
    if (n > 0) {
      p = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        return Status::NotSupported("cannot map " + path);
      }
    }
    ::close(fd);
    return std::unique_ptr<FileBytes>(new MappedBytes(p, n));
  }

  Result<std::unique_ptr<WritableFile>> Create(std::string_view name) override {
    QUIVER_RETURN_IF_ERROR(CheckName(name));
    const std::string path = Path(name);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) return Status::AlreadyExists(path + " already exists");
      return PosixError("create " + path, errno);
    }
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, 0));
  }

  Result<std::unique_ptr<WritableFile>> OpenAppend(std::string_view name) override {
    QUIVER_RETURN_IF_ERROR(CheckName(name));
    const std::string path = Path(name);
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    struct stat st;
    uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, size));
  }

  Status Rename(std::string_view from, std::string_view to) override {
    QUIVER_RETURN_IF_ERROR(CheckName(from));
    QUIVER_RETURN_IF_ERROR(CheckName(to));
    if (::rename(Path(from).c_str(), Path(to).c_str()) != 0) {
      return PosixError("rename " + Path(from) + " to " + Path(to), errno);
    }
    return Status::OK();
  }

  Status Remove(std::string_view name) override {
    QUIVER_RETURN_IF_ERROR(CheckName(name));
    if (::unlink(Path(name).c_str()) != 0) return PosixError("remove " + Path(name), errno);
    return Status::OK();
  }

  Status Truncate(std::string_view name, uint64_t size) override {
    QUIVER_RETURN_IF_ERROR(CheckName(name));
    if (::truncate(Path(name).c_str(), static_cast<off_t>(size)) != 0)
      return PosixError("truncate " + Path(name), errno);
    return Status::OK();
  }

  Status SyncDir() override {
    int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + root_, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0 && err != EINVAL) return PosixError("sync " + root_, err);
    return Status::OK();
  }

  Result<std::unique_ptr<FileLock>> Lock(std::string_view name) override {
    QUIVER_RETURN_IF_ERROR(CheckName(name));
    const std::string path = Path(name);
    {
      std::lock_guard<std::mutex> lock(LockedMutex());
      if (!LockedPaths().insert(path).second) {
        return Status::Busy(root_ + " is already open for writing in this process");
      }
    }
    auto unregister = [&] {
      std::lock_guard<std::mutex> lock(LockedMutex());
      LockedPaths().erase(path);
    };
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      int err = errno;
      unregister();
      return PosixError("open " + path, err);
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      unregister();
      if (err == EWOULDBLOCK) return Status::Busy(root_ + " is already open for writing by another process");
      return PosixError("lock " + path, err);
    }
    return std::unique_ptr<FileLock>(new PosixLock(path, fd));
  }

 private:
  std::string Path(std::string_view name) const { return root_ + "/" + std::string(name); }

  std::string root_;
};

}  // namespace

Result<std::unique_ptr<Storage>> OpenPosixStorage(const std::string& root) {
  if (root.empty()) return Status::InvalidArgument("empty storage path");
  // Create the folder and its parents.
  for (size_t pos = 1; pos <= root.size(); ++pos) {
    if (pos != root.size() && root[pos] != '/') continue;
    std::string part = root.substr(0, pos);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
      return PosixError("create folder " + part, errno);
  }
  struct stat st;
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::IOError(root + " is not a folder");
  }
  return std::unique_ptr<Storage>(new PosixStorage(root));
}

}  // namespace quiver::storage
