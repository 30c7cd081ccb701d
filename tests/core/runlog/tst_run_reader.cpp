// Reading a run folder back (replay) and the wide CSV export.
#include <gtest/gtest.h>

#include "core/runlog/run_log.h"
#include "core/runlog/run_reader.h"
#include "run_dir_fixture.h"

namespace edgerig {
namespace {

using RunReaderTest = testing::ScratchDir;

// Times at millisecond resolution and values that print exactly: what a run writes.
RunData sampleRun() {
  RunData run;
  run.config_json = "{\n  \"name\": \"replay\"\n}\n";
  run.metrics = {{0.125, 1, "", "train_loss", 2.302585},
                 {0.125, 1, "agent-0", "samples_per_s", 812.5},
                 {0.250, 2, "agent,1", "bytes_sent", 123456789012.0},
                 {0.250, 2, "", "train_loss", static_cast<double>(0.3f)},
                 {1.000, 3, "", "tiny", 1e-300},
                 {1.001, 3, "", "neg", -0.0625}};
  run.events = {
      {0, 0, "", "run_started", "gpipe on 3 devices"},
      {0.5, 2, "agent-2", "fault_applied", "link: delay \"50 ms\", drop 0.1\nsecond line"},
      {1.25, 3, "", "run_finished", ""}};
  run.partitions = {{0, 0, 0, "agent-0", 0, 3, "conv1,relu1,pool1,conv2"},
                    {0, 0, 1, "agent-1", 4, 8, "relu2,pool2,flatten,fc1,fc2"}};
  return run;
}

void writeRun(const std::string& dir, const RunData& run) {
  auto log = RunLog::create(dir, run.config_json);
  ASSERT_TRUE(log) << log.status().message();
  for (const auto& m : run.metrics) (*log)->append(m);
  for (const auto& e : run.events) (*log)->append(e);
  for (const auto& p : run.partitions) (*log)->append(p);
  ASSERT_TRUE((*log)->status());
}

TEST_F(RunReaderTest, ReadsBackWhatWasWritten) {
  const RunData run = sampleRun();
  writeRun(path("run"), run);
  auto back = readRun(path("run"));
  ASSERT_TRUE(back) << back.status().message();
  EXPECT_EQ(back->config_json, run.config_json);
  // A value that is exactly a float is written with float's digits and reads back as the
  // nearest double to them: the same float.
  std::vector<MetricSample> expected = run.metrics;
  expected[3].value = 0.3;
  EXPECT_EQ(static_cast<float>(expected[3].value), static_cast<float>(run.metrics[3].value));
  EXPECT_EQ(back->metrics, expected);
  EXPECT_EQ(back->events, run.events);
  EXPECT_EQ(back->partitions, run.partitions);
}

TEST_F(RunReaderTest, DropsARowTornByACrash) {
  const RunData run = sampleRun();
  writeRun(path("run"), run);
  spit(path("run/metrics.csv"), slurp(path("run/metrics.csv")) + "1.002,4,,train_lo");
  spit(path("run/events.csv"), slurp(path("run/events.csv")) + "1.3,4,,error,\"cut in a quo");
  auto back = readRun(path("run"));
  ASSERT_TRUE(back) << back.status().message();
  EXPECT_EQ(back->metrics.size(), run.metrics.size());
  EXPECT_EQ(back->metrics.back(), run.metrics.back());
  EXPECT_EQ(back->events, run.events);
}

TEST_F(RunReaderTest, ABadRowNamesTheFileAndLine) {
  writeRun(path("run"), sampleRun());
  std::string text = slurp(path("run/metrics.csv"));
  text.insert(text.find('\n', text.find('\n') + 1) + 1, "0.2,1,,loss,abc\n");
  spit(path("run/metrics.csv"), text);
  auto back = readRun(path("run"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.status().message().find("metrics.csv line 3: value \"abc\" is not a number"),
            std::string::npos)
      << back.status().message();

  writeRun(path("run2"), sampleRun());
  spit(path("run2/partitions.csv"), slurp(path("run2/partitions.csv")) + "0,0,2,agent-2,9\n");
  back = readRun(path("run2"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.status().message().find("partitions.csv line 4: expected 7 fields, found 5"),
            std::string::npos)
      << back.status().message();

  writeRun(path("run3"), sampleRun());
  spit(path("run3/events.csv"), "when,what\n");
  back = readRun(path("run3"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.status().message().find("events.csv line 1: the header must be"),
            std::string::npos)
      << back.status().message();
}

TEST_F(RunReaderTest, AMissingFileIsNamed) {
  writeRun(path("run"), sampleRun());
  std::filesystem::remove(path("run/events.csv"));
  auto back = readRun(path("run"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.status().code(), StatusCode::kNotFound);
  EXPECT_NE(back.status().message().find("events.csv"), std::string::npos);

  back = readRun(path("nowhere"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.status().message().find("config.json"), std::string::npos);
}

TEST_F(RunReaderTest, ExportWideHasOneColumnPerMetricAndOneRowPerMoment) {
  std::filesystem::create_directories(path("run"));
  spit(path("run/config.json"), "{}\n");
  spit(path("run/events.csv"), "time_s,iteration,device,kind,detail\n");
  spit(path("run/partitions.csv"), "time_s,iteration,stage,device,first_layer,last_layer,layers\n");
  spit(path("run/metrics.csv"),
       "time_s,iteration,device,metric,value\n"
       "0.500,1,,train_loss,2.25\n"
       "0.500,1,a,samples_per_s,100\n"
       "0.500,1,,accuracy,0.125\n"
       "0.500,1,a,bytes_sent,4096\n"
       "1.000,2,\"b,c\",samples_per_s,90.5\n"
       "1.000,2,,train_loss,1.5\n"
       "0.500,1,,train_loss,2\n");
  ASSERT_TRUE(exportWide(path("run"), path("wide.csv")));
  EXPECT_EQ(slurp(path("wide.csv")),
            "time_s,iteration,device,train_loss,samples_per_s,accuracy,bytes_sent\n"
            "0.500,1,,2,,0.125,\n"
            "0.500,1,a,,100,,4096\n"
            "1.000,2,\"b,c\",,90.5,,\n"
            "1.000,2,,1.5,,,\n");
}

TEST_F(RunReaderTest, ExportWideOfAnEmptyRunIsAHeader) {
  ASSERT_TRUE(RunLog::create(path("run"), "{}"));
  ASSERT_TRUE(exportWide(path("run"), path("wide.csv")));
  EXPECT_EQ(slurp(path("wide.csv")), "time_s,iteration,device\n");
}

TEST_F(RunReaderTest, ExportWideNamesTheFileItCannotWrite) {
  ASSERT_TRUE(RunLog::create(path("run"), "{}"));
  Status s = exportWide(path("run"), path("no/such/folder/wide.csv"));
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("no/such/folder/wide.csv"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace edgerig
