// The run-folder reader: the CSV parser on the input as it is, then readRun and exportWide on a
// folder made of it. The input is split into config.json, metrics.csv, events.csv and
// partitions.csv at lines "=====" (missing parts are missing files).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/runlog/csv.h"
#include "core/runlog/run_reader.h"
#include "fuzz_quiet.h"

using namespace edgerig;
namespace fs = std::filesystem;

namespace {

const std::string& scratch() {
  static const std::string dir = [] {
    const fs::path base = fs::exists("/dev/shm") ? "/dev/shm" : fs::temp_directory_path();
    std::string d = (base / ("edgerig-fuzz-run-" + std::to_string(getpid()))).string();
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parseCsvRecords(text, /*drop_torn_tail=*/true);
  if (auto rows = parseCsv(text)) {
    // What the writer makes of the rows must parse back to the same rows.
    std::string out;
    for (const auto& r : *rows) out += csvRow(r);
    auto back = parseCsv(out);
    if (!back || *back != *rows) std::abort();
  }
  // Files cost a few system calls each: only inputs made as folders (with separators) get one.
  if (text.find("\n=====\n") == std::string_view::npos) return 0;
  const std::string& dir = scratch();
  static const char* const kFiles[] = {"config.json", "metrics.csv", "events.csv",
                                       "partitions.csv"};
  std::string_view rest = text;
  for (const char* name : kFiles) {
    const fs::path path = fs::path(dir) / name;
    if (rest.empty()) {
      std::error_code ec;
      fs::remove(path, ec);
      continue;
    }
    const size_t cut = rest.find("\n=====\n");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << rest.substr(0, cut);
    rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 7);
  }
  (void)readRun(dir);
  (void)exportWide(dir, dir + "/wide.csv");
  return 0;
}
