// A scratch folder per test, removed afterwards.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tests/support/scratch_dir.h"

namespace edgerig::testing {

class ScratchDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    scratch_ = std::make_unique<testsupport::ScratchDir>(std::string(info->test_suite_name()) +
                                                         "-" + info->name());
    root_ = scratch_->path();
  }
  void TearDown() override { scratch_.reset(); }

  std::string path(const std::string& leaf) const { return (root_ / leaf).string(); }

  static std::string slurp(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static void spit(const std::string& file, const std::string& text) {
    std::ofstream(file, std::ios::binary) << text;
  }

  std::unique_ptr<testsupport::ScratchDir> scratch_;
  std::filesystem::path root_;
};

}  // namespace edgerig::testing
