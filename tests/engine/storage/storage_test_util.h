// A temporary folder for tests that use the POSIX backend; removed with its files when the object dies.
#ifndef QUIVER_TESTS_STORAGE_TEST_UTIL_H_
#define QUIVER_TESTS_STORAGE_TEST_UTIL_H_

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

namespace quiver::testing {

class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/quiver-test-XXXXXX";
    char* p = ::mkdtemp(templ);
    path_ = p ? p : "/tmp/quiver-test-fallback";
  }
  ~TempDir() {
    if (DIR* d = ::opendir(path_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") ::unlink((path_ + "/" + n).c_str());
      }
      ::closedir(d);
    }
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace quiver::testing

#endif  // QUIVER_TESTS_STORAGE_TEST_UTIL_H_
