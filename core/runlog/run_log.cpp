#include "core/runlog/run_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/runlog/csv.h"
#include "core/runlog/numbers.h"

namespace edgerig {
namespace {

namespace fs = std::filesystem;

std::string errnoText(int err) { return std::strerror(err); }

// Writes all of `text`, retrying short writes and EINTR. If the disk fills mid-way, the part
// written is cut off again so that the file keeps whole rows only.
Status writeAll(int fd, const std::string& text, const std::string& path) {
  const off_t start = ::lseek(fd, 0, SEEK_END);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      if (done > 0 && start >= 0 && ::ftruncate(fd, start) != 0) {
        // Nothing more to do: the reader drops a torn last row.
      }
      return unavailable("cannot write " + path + ": " + errnoText(err) +
                         "; check free space and that the run folder still exists");
    }
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

// O_EXCL: a run folder is written once, never appended to by a second run.
Result<int> createFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      return invalidArgument(path +
                             " already exists: a run folder is written once; start the "
                             "run in a new folder (makeRunDir)");
    }
    return unavailable("cannot create " + path + ": " + errnoText(errno));
  }
  return fd;
}

std::string sanitiseName(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (ok) {
      out += c;
    } else if (out.empty() || out.back() != '_') {
      out += '_';
    }
    if (out.size() >= 64) break;
  }
  // Only dots and underscores left ("..", "_") says nothing and reads like a path.
  if (out.find_first_not_of("._") == std::string::npos) return "run";
  return out;
}

}  // namespace

std::vector<std::string> csvFields(const MetricSample& m) {
  return {formatTime(m.time_s), std::to_string(m.iteration), m.device, m.metric,
          formatValue(m.value)};
}

std::string RunEvent::field(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return {};
}

std::string fieldsText(const std::vector<std::pair<std::string, std::string>>& fields) {
  if (fields.empty()) return {};
  nlohmann::ordered_json obj = nlohmann::ordered_json::object();
  for (const auto& [k, v] : fields) obj[k] = v;
  return obj.dump();
}

Result<std::vector<std::pair<std::string, std::string>>> parseFieldsText(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  if (text.empty()) return out;
  auto obj = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded() || !obj.is_object()) {
    return invalidArgument("fields \"" + text.substr(0, 40) + "\" are not a JSON object");
  }
  for (const auto& [k, v] : obj.items()) {
    if (!v.is_string()) return invalidArgument("field " + k + " is not a string");
    out.emplace_back(k, v.get<std::string>());
  }
  return out;
}

std::vector<std::string> csvFields(const RunEvent& e) {
  return {formatTime(e.time_s), std::to_string(e.iteration), e.device, e.kind, e.detail,
          fieldsText(e.fields)};
}

std::vector<std::string> csvFields(const GraphEdgeRecord& g) {
  return {formatTime(g.time_s),
          std::to_string(g.iteration),
          std::to_string(g.round),
          g.graph,
          g.from,
          g.to,
          formatValue(g.weight)};
}

std::vector<std::string> csvFields(const ShardRecord& s) {
  return {s.device, std::to_string(s.label), std::to_string(s.count)};
}

std::vector<std::string> csvFields(const LinkBandwidthRecord& l) {
  return {formatTime(l.time_s), std::to_string(l.iteration), l.from, l.to,
          formatValue(l.bytes_per_s)};
}

std::vector<std::string> csvFields(const PartitionRecord& p) {
  return {formatTime(p.time_s),
          std::to_string(p.iteration),
          std::to_string(p.stage),
          p.device,
          std::to_string(p.first_layer),
          std::to_string(p.last_layer),
          p.layers};
}

RunLog::RunLog(std::string dir) : dir_(std::move(dir)) {}

RunLog::~RunLog() {
  for (File* f : {&metrics_, &events_, &partitions_, &graph_, &shards_, &links_}) {
    if (f->fd >= 0) ::close(f->fd);
  }
}

Result<std::unique_ptr<RunLog>> RunLog::create(const std::string& dir,
                                               const std::string& config_json) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return unavailable("cannot create run folder " + dir + ": " + ec.message());

  std::unique_ptr<RunLog> log(new RunLog(dir));
  const std::string config_path = (fs::path(dir) / kConfigFile).string();
  auto config_fd = createFile(config_path);
  if (!config_fd) return config_fd.status();
  std::string config = config_json;
  if (config.empty() || config.back() != '\n') config += '\n';
  Status s = writeAll(*config_fd, config, config_path);
  ::close(*config_fd);
  if (!s) return s;

  const std::pair<File*, std::pair<const char*, const char*>> files[] = {
      {&log->metrics_, {kMetricsFile, kMetricsHeader}},
      {&log->events_, {kEventsFile, kEventsHeader}},
      {&log->partitions_, {kPartitionsFile, kPartitionsHeader}},
  };
  for (const auto& [file, names] : files) {
    file->path = (fs::path(dir) / names.first).string();
    auto fd = createFile(file->path);
    if (!fd) return fd.status();
    file->fd = *fd;
    Status w = writeAll(file->fd, std::string(names.second) + "\n", file->path);
    if (!w) return w;
  }
  return log;
}

void RunLog::write(File& file, const std::string& text) {
  Status s;
  {
    std::lock_guard<std::mutex> lock(file.mutex);
    s = writeAll(file.fd, text, file.path);
  }
  if (!s) noteError(s);
}

Status RunLog::open(File& file, const char* name, const char* header) {
  if (file.fd >= 0) return Status::ok();
  file.path = (fs::path(dir_) / name).string();
  auto fd = createFile(file.path);
  if (!fd) return fd.status();
  file.fd = *fd;
  return writeAll(file.fd, std::string(header) + "\n", file.path);
}

void RunLog::append(const std::vector<GraphEdgeRecord>& edges) {
  if (edges.empty()) return;
  std::string text;
  for (const auto& g : edges) text += csvRow(csvFields(g));
  Status s;
  {
    std::lock_guard<std::mutex> lock(graph_.mutex);
    s = open(graph_, kGraphFile, kGraphHeader);
    if (s) s = writeAll(graph_.fd, text, graph_.path);
  }
  if (!s) noteError(s);
}

void RunLog::append(const std::vector<ShardRecord>& shards) {
  if (shards.empty()) return;
  std::string text;
  for (const auto& r : shards) text += csvRow(csvFields(r));
  Status s;
  {
    std::lock_guard<std::mutex> lock(shards_.mutex);
    s = open(shards_, kShardsFile, kShardsHeader);
    if (s) s = writeAll(shards_.fd, text, shards_.path);
  }
  if (!s) noteError(s);
}

void RunLog::append(const std::vector<LinkBandwidthRecord>& links) {
  if (links.empty()) return;
  std::string text;
  for (const auto& l : links) text += csvRow(csvFields(l));
  Status s;
  {
    std::lock_guard<std::mutex> lock(links_.mutex);
    s = open(links_, kLinksFile, kLinksHeader);
    if (s) s = writeAll(links_.fd, text, links_.path);
  }
  if (!s) noteError(s);
}

void RunLog::noteError(const Status& s) {
  std::lock_guard<std::mutex> lock(status_mutex_);
  if (status_.isOk()) status_ = s;
}

void RunLog::append(const MetricSample& m) { write(metrics_, csvRow(csvFields(m))); }

void RunLog::append(const std::vector<MetricSample>& ms) {
  if (ms.empty()) return;
  std::string text;
  for (const auto& m : ms) text += csvRow(csvFields(m));
  write(metrics_, text);
}

void RunLog::append(const RunEvent& e) { write(events_, csvRow(csvFields(e))); }

void RunLog::append(const PartitionRecord& p) { write(partitions_, csvRow(csvFields(p))); }

Status RunLog::status() const {
  std::lock_guard<std::mutex> lock(status_mutex_);
  return status_;
}

Result<std::string> makeRunDir(const std::string& runs_root, const std::string& name) {
  std::error_code ec;
  fs::create_directories(runs_root, ec);
  if (ec) return unavailable("cannot create runs folder " + runs_root + ": " + ec.message());

  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  const std::string base = std::string(stamp) + "-" + sanitiseName(name);

  constexpr int kMaxAttempts = 1000;
  for (int i = 1; i <= kMaxAttempts; ++i) {
    std::string leaf = i == 1 ? base : base + "-" + std::to_string(i);
    std::string path = (fs::path(runs_root) / leaf).string();
    // mkdir, not exists()+create: two runs started in the same second must not share a folder.
    if (::mkdir(path.c_str(), 0755) == 0) return path;
    if (errno != EEXIST) {
      return unavailable("cannot create run folder " + path + ": " + errnoText(errno));
    }
  }
  return unavailable("cannot find a free run folder name for " + base + " in " + runs_root +
                     " after " + std::to_string(kMaxAttempts) + " tries; clean up old runs");
}

}  // namespace edgerig
