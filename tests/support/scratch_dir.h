// A fresh, uniquely named scratch folder (mkdtemp under $TMPDIR or /tmp), removed when the
// object goes. Names built from the pid collide across runs once pids are reused, and a run
// folder is written once, so every test that writes files takes one of these.
// Set EDGERIG_KEEP_TEST_DIRS=1 to keep the folders for a look after a failure.
#pragma once

#include <stdlib.h>

#include <errno.h>  // program_invocation_short_name

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgerig::testsupport {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / ("edgerig-" + name + "-XXXXXX")).string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
    }
    path_ = buf.data();
  }
  ~ScratchDir() {
    if (std::getenv("EDGERIG_KEEP_TEST_DIRS") == nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // A path inside the folder that does not exist yet (a run folder is created by the run).
  std::string path(const std::string& leaf) const { return (path_ / leaf).string(); }

 private:
  std::filesystem::path path_;
};

// A path named `name`, not yet created, in one scratch folder per test process (named after
// the executable, removed at exit): each run of a system test writes a fresh run folder there.
inline std::string runDir(const std::string& name) {
  static const ScratchDir scratch(program_invocation_short_name);
  return scratch.path(name);
}

}  // namespace edgerig::testsupport
