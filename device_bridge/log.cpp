#include "device_bridge/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

namespace edgerig::bridge {

namespace {

spdlog::level::level_enum levelFromEnv() {
  const char* env = std::getenv("EDGERIG_LOG");
  if (env == nullptr || *env == '\0') return spdlog::level::info;
  const std::string name(env);
  if (name == "error") return spdlog::level::err;
  if (name == "warning") return spdlog::level::warn;
  // from_str maps anything it does not know to "off"; an unknown word should not silence logs.
  const auto level = spdlog::level::from_str(name);
  return (level == spdlog::level::off && name != "off") ? spdlog::level::info : level;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& category) {
  static std::mutex mutex;
  // One sink for all categories, so lines from different modules never interleave mid-line.
  static const auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  static const auto level = levelFromEnv();
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get(category)) return existing;
  auto created = std::make_shared<spdlog::logger>(category, sink);
  created->set_pattern("[%H:%M:%S.%e] [%n] [%l] %v");
  created->set_level(level);
  spdlog::register_logger(created);
  return created;
}

}  // namespace edgerig::bridge
