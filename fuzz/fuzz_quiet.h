// Shared by the fuzz targets: no logging, so that the fuzzer's time goes to the code under test
// (protobuf reports every malformed string; the bridge logs every refused peer).
#pragma once

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  spdlog::set_level(spdlog::level::off);
  setenv("EDGERIG_LOG", "off", 1);
  return 0;
}
