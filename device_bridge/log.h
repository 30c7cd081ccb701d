// One named spdlog logger per module ("edgerig.bridge", "edgerig.core", ...), all on stderr;
// the level comes from the environment variable EDGERIG_LOG (trace|debug|info|warn|error|off).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace edgerig::bridge {

// Get-or-create, thread-safe. Pattern "[%H:%M:%S.%e] [%n] [%l] %v"; default level info.
std::shared_ptr<spdlog::logger> logger(const std::string& category);

}  // namespace edgerig::bridge
