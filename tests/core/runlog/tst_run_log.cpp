// RunLog: what lands in the run folder, when, and with several writers at once.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <filesystem>

#include <csignal>
#include <regex>
#include <thread>

#include "core/runlog/csv.h"
#include "core/runlog/run_log.h"
#include "run_dir_fixture.h"

namespace edgerig {
namespace {

using RunLogTest = testing::ScratchDir;

TEST_F(RunLogTest, CreateWritesConfigAndHeaders) {
  auto log = RunLog::create(path("run"), "{\"name\": \"x\"}");
  ASSERT_TRUE(log) << log.status().message();
  EXPECT_EQ((*log)->dir(), path("run"));
  EXPECT_EQ(slurp(path("run/config.json")), "{\"name\": \"x\"}\n");
  EXPECT_EQ(slurp(path("run/metrics.csv")), "time_s,iteration,device,metric,value\n");
  EXPECT_EQ(slurp(path("run/events.csv")), "time_s,iteration,device,kind,detail,fields\n");
  // graph.csv and shards.csv appear with their first rows (a pipeline writes neither).
  EXPECT_FALSE(std::filesystem::exists(path("run/graph.csv")));
  EXPECT_FALSE(std::filesystem::exists(path("run/shards.csv")));
  EXPECT_EQ(slurp(path("run/partitions.csv")),
            "time_s,iteration,stage,device,first_layer,last_layer,layers\n");
  EXPECT_TRUE((*log)->status());
}

TEST_F(RunLogTest, RowsAreOnDiskAsSoonAsAppendReturns) {
  auto log = RunLog::create(path("run"), "{}");
  ASSERT_TRUE(log);
  RunLog& run = **log;

  run.append(MetricSample{1.5, 10, "", "train_loss", 0.25});
  EXPECT_EQ(slurp(path("run/metrics.csv")),
            "time_s,iteration,device,metric,value\n1.500,10,,train_loss,0.25\n");

  run.append(std::vector<MetricSample>{{2, 11, "pi-1", "samples_per_s", 1234.5},
                                       {2, 11, "pi,2", "bytes_sent", 1e12}});
  EXPECT_EQ(slurp(path("run/metrics.csv")),
            "time_s,iteration,device,metric,value\n1.500,10,,train_loss,0.25\n"
            "2.000,11,pi-1,samples_per_s,1234.5\n2.000,11,\"pi,2\",bytes_sent,1000000000000\n");

  run.append(RunEvent{0.0004, 0, "agent-0", "fault_applied", "delay \"50 ms\",\nthen drop"});
  EXPECT_EQ(slurp(path("run/events.csv")),
            "time_s,iteration,device,kind,detail,fields\n"
            "0.000,0,agent-0,fault_applied,\"delay \"\"50 ms\"\",\nthen drop\",\n");
  run.append(RunEvent{1, 2, "", "algorithm_switched", "to it", {{"from", "a"}, {"to", "b,\"c\""}}});
  EXPECT_NE(slurp(path("run/events.csv"))
                .find("1.000,2,,algorithm_switched,to it,\"{\"\"from\"\":\"\"a\"\",\"\"to\"\":"
                      "\"\"b,\\\"\"c\\\"\"\"\"}\"\n"),
            std::string::npos)
      << slurp(path("run/events.csv"));

  run.append(std::vector<GraphEdgeRecord>{{4, 5, 0, "ring", "dev0", "dev1", 0.5},
                                          {4, 5, 0, "ring", "dev1", "dev0", 0.5}});
  EXPECT_EQ(slurp(path("run/graph.csv")),
            "time_s,iteration,round,graph,from,to,weight\n"
            "4.000,5,0,ring,dev0,dev1,0.5\n4.000,5,0,ring,dev1,dev0,0.5\n");
  run.append(std::vector<ShardRecord>{{"dev0", 3, 120}});
  EXPECT_EQ(slurp(path("run/shards.csv")), "device,class,count\ndev0,3,120\n");

  run.append(PartitionRecord{3.25, 12, 1, "agent-1", 4, 7, "conv2,relu2,pool2,fc1"});
  EXPECT_EQ(slurp(path("run/partitions.csv")),
            "time_s,iteration,stage,device,first_layer,last_layer,layers\n"
            "3.250,12,1,agent-1,4,7,\"conv2,relu2,pool2,fc1\"\n");
  EXPECT_TRUE(run.status());
}

TEST_F(RunLogTest, ARunFolderIsWrittenOnce) {
  ASSERT_TRUE(RunLog::create(path("run"), "{}"));
  auto again = RunLog::create(path("run"), "{}");
  ASSERT_FALSE(again);
  EXPECT_NE(again.status().message().find("config.json already exists"), std::string::npos)
      << again.status().message();
}

TEST_F(RunLogTest, ConcurrentAppendsGiveWholeLinesInEachWritersOrder) {
  auto log = RunLog::create(path("run"), "{}");
  ASSERT_TRUE(log);
  constexpr int kThreads = 4;
  constexpr int kRows = 400;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      const std::string device = "device \"" + std::to_string(t) + "\", long name to widen rows";
      for (int i = 0; i < kRows; ++i) {
        if (i % 2 == 0) {
          (*log)->append(MetricSample{0.001 * i, i, device, "step", static_cast<double>(i)});
        } else {
          (*log)->append(
              std::vector<MetricSample>{{0.001 * i, i, device, "step", static_cast<double>(i)},
                                        {0.001 * i, i, device, "extra", 0.5}});
        }
        (*log)->append(RunEvent{0.001 * i, i, device, "evaluation", "x,y\nz"});
      }
    });
  }
  for (auto& w : writers) w.join();

  auto metrics = parseCsv(slurp(path("run/metrics.csv")));
  ASSERT_TRUE(metrics) << metrics.status().message();
  ASSERT_EQ(metrics->size(), 1u + kThreads * (kRows + kRows / 2));
  std::map<std::string, int> next_step;
  for (size_t r = 1; r < metrics->size(); ++r) {
    const auto& row = (*metrics)[r];
    ASSERT_EQ(row.size(), 5u) << "row " << r;
    if (row[3] != "step") continue;
    EXPECT_EQ(row[4], std::to_string(next_step[row[2]])) << row[2];
    next_step[row[2]] = std::stoi(row[4]) + 1;
  }
  EXPECT_EQ(next_step.size(), static_cast<size_t>(kThreads));
  for (const auto& [device, next] : next_step) EXPECT_EQ(next, kRows) << device;

  auto events = parseCsv(slurp(path("run/events.csv")));
  ASSERT_TRUE(events) << events.status().message();
  ASSERT_EQ(events->size(), 1u + kThreads * kRows);
  for (size_t r = 1; r < events->size(); ++r) EXPECT_EQ((*events)[r][4], "x,y\nz");
  EXPECT_TRUE((*log)->status());
}

TEST_F(RunLogTest, AWriteErrorIsKeptAndNamesTheFile) {
  auto log = RunLog::create(path("run"), "{}");
  ASSERT_TRUE(log);
  // A file size limit stands in for a full disk: write() fails with EFBIG.
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 200;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  for (int i = 0; i < 20; ++i) (*log)->append(MetricSample{1, i, "d", "m", 1});
  (*log)->append(RunEvent{1, 1, "", "run_finished", ""});
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, SIG_DFL);

  Status s = (*log)->status();
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("metrics.csv"), std::string::npos) << s.message();
  // The rows that fit are there and whole: a row cut by the full disk is taken back out.
  const std::string text = slurp(path("run/metrics.csv"));
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  auto metrics = parseCsv(text);
  ASSERT_TRUE(metrics) << metrics.status().message();
  EXPECT_GT(metrics->size(), 1u);
  EXPECT_LT(metrics->size(), 21u);
  for (const auto& row : *metrics) EXPECT_EQ(row.size(), 5u);
}

TEST_F(RunLogTest, MakeRunDirStampsSanitisesAndNeverReusesAFolder) {
  auto first = makeRunDir(path("runs"), "my run/../x:y");
  ASSERT_TRUE(first) << first.status().message();
  const std::string leaf = std::filesystem::path(*first).filename().string();
  EXPECT_TRUE(std::regex_match(leaf, std::regex(R"(\d{8}-\d{6}-my_run_.._x_y)"))) << leaf;
  EXPECT_EQ(std::filesystem::path(*first).parent_path(), std::filesystem::path(path("runs")));
  EXPECT_TRUE(std::filesystem::is_directory(*first));

  // Same name in the same second gets -2, then -3; retry if the clock ticked in between.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto a = makeRunDir(path("runs"), "same");
    auto b = makeRunDir(path("runs"), "same");
    auto c = makeRunDir(path("runs"), "same");
    ASSERT_TRUE(a && b && c);
    EXPECT_NE(*a, *b);
    EXPECT_NE(*b, *c);
    if (b->substr(0, a->size()) == *a && c->substr(0, a->size()) == *a) {
      EXPECT_EQ(*b, *a + "-2");
      EXPECT_EQ(*c, *a + "-3");
      break;
    }
  }

  for (const std::string bad : {"", "..", "/", "???"}) {
    auto dir = makeRunDir(path("runs"), bad);
    ASSERT_TRUE(dir) << bad;
    const std::string name = std::filesystem::path(*dir).filename().string();
    EXPECT_TRUE(std::regex_match(name, std::regex(R"(\d{8}-\d{6}-run(-\d+)?)")))
        << bad << " -> " << name;
  }
}

TEST_F(RunLogTest, MakeRunDirReportsAnUnusableRoot) {
  spit(path("file"), "not a folder");
  auto dir = makeRunDir(path("file"), "x");
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.status().message().find(path("file")), std::string::npos) << dir.status().message();
}

}  // namespace
}  // namespace edgerig
