// The aggregator turns cumulative counters from agents into rates per device and per link, over
// the last 2 s, and never reports a negative rate when an agent restarts its counters.
#include <gtest/gtest.h>

#include "core/controller/metrics_aggregator.h"

namespace edgerig {
namespace {

wire::MetricsReport report(uint64_t activation_to_dev1, uint64_t control_to_ctl,
                           double samples_per_s) {
  wire::MetricsReport r;
  r.set_samples_per_s(samples_per_s);
  auto* a = r.add_traffic();
  a->set_peer("dev1");
  a->set_kind("activation");
  a->set_bytes_sent(activation_to_dev1);
  auto* c = r.add_traffic();
  c->set_peer("controller");
  c->set_kind("control");
  c->set_bytes_sent(control_to_ctl);
  c->set_bytes_received(control_to_ctl / 2);
  return r;
}

const LinkTraffic* link(const std::vector<LinkTraffic>& ls, const std::string& to,
                        const std::string& kind) {
  for (const auto& l : ls) {
    if (l.to == to && l.kind == kind) return &l;
  }
  return nullptr;
}

double sampleOf(const std::vector<MetricSample>& ms, const std::string& metric) {
  for (const auto& m : ms) {
    if (m.metric == metric) return m.value;
  }
  return -1;
}

TEST(MetricsAggregator, RatesPerDeviceAndPerLinkFromCumulativeCounters) {
  MetricsAggregator agg;
  agg.resize(2);
  agg.device(0).name = "dev0";
  agg.onReport(0, report(1000, 100, 50), 10.0, 3, 1.5);
  auto ms = agg.onReport(0, report(5000, 300, 60), 10.5, 4, 2.5);

  EXPECT_DOUBLE_EQ(sampleOf(ms, "bytes_sent_activation"), 5000);
  EXPECT_DOUBLE_EQ(sampleOf(ms, "bytes_sent_control"), 300);
  EXPECT_DOUBLE_EQ(sampleOf(ms, "bytes_out_per_s"), (5300.0 - 1100.0) / 0.5);
  EXPECT_DOUBLE_EQ(sampleOf(ms, "bytes_in_per_s"), (150.0 - 50.0) / 0.5);
  EXPECT_DOUBLE_EQ(sampleOf(ms, "rtt_ms"), 2.5);
  EXPECT_EQ(ms.front().device, "dev0");
  EXPECT_EQ(ms.front().iteration, 4);
  EXPECT_DOUBLE_EQ(agg.device(0).samples_per_s, 60);

  const auto ls = agg.links();
  const auto* act = link(ls, "dev1", "activation");
  ASSERT_NE(act, nullptr);
  EXPECT_EQ(act->from, "dev0");
  EXPECT_EQ(act->bytes, 5000u);
  EXPECT_DOUBLE_EQ(act->bytes_per_s, 8000);
  const auto* ctl = link(ls, "controller", "control");
  ASSERT_NE(ctl, nullptr);
  EXPECT_DOUBLE_EQ(ctl->bytes_per_s, 400);
}

TEST(MetricsAggregator, RatesAreOverTheLastTwoSecondsNotOneReport) {
  // Reports every 0.25 s: 1000 activation bytes/s and 100 samples/s for 4 s, then nothing sent
  // and 20 samples/s. One report's interval would swing at once; the rates follow over 2 s.
  MetricsAggregator agg;
  agg.resize(1);
  agg.device(0).name = "dev0";
  std::vector<MetricSample> ms;
  for (int r = 0; r <= 16; ++r) ms = agg.onReport(0, report(250 * r, 0, 100), 0.25 * r, r, 0);
  EXPECT_DOUBLE_EQ(sampleOf(ms, "bytes_out_per_s"), 1000);
  EXPECT_DOUBLE_EQ(agg.device(0).samples_per_s, 100);
  for (int r = 17; r <= 20; ++r) ms = agg.onReport(0, report(4000, 0, 20), 0.25 * r, r, 0);
  // At 5 s the window (3 s to 5 s) holds 1 s of each.
  EXPECT_DOUBLE_EQ(sampleOf(ms, "bytes_out_per_s"), 500);
  EXPECT_DOUBLE_EQ(agg.device(0).samples_per_s, 60);
  EXPECT_DOUBLE_EQ(link(agg.links(), "dev1", "activation")->bytes_per_s, 500);
  for (int r = 21; r <= 24; ++r) ms = agg.onReport(0, report(4000, 0, 20), 0.25 * r, r, 0);
  EXPECT_DOUBLE_EQ(sampleOf(ms, "bytes_out_per_s"), 0);
  EXPECT_DOUBLE_EQ(agg.device(0).samples_per_s, 20);
}

TEST(MetricsAggregator, ARestartedAgentsCountersGiveZeroNotNegativeRates) {
  MetricsAggregator agg;
  agg.resize(1);
  agg.device(0).name = "dev0";
  agg.onReport(0, report(9000, 900, 1), 1.0, 0, 0);
  auto ms = agg.onReport(0, report(100, 10, 1), 2.0, 0, 0);
  // Counters that went down (a new process) give a rate of exactly zero for that interval:
  // `>= 0` would also pass an unsigned wrap-around turned into a huge positive rate.
  EXPECT_EQ(sampleOf(ms, "bytes_out_per_s"), 0);
  EXPECT_EQ(link(agg.links(), "dev1", "activation")->bytes_per_s, 0);
}

TEST(MetricsAggregator, TotalsSurviveARestartedAgent) {
  MetricsAggregator agg;
  agg.resize(1);
  agg.device(0).name = "dev0";
  agg.onReport(0, report(9000, 900, 1), 1.0, 0, 0);
  agg.deviceRestarted(0);
  auto ms = agg.onReport(0, report(100, 10, 1), 2.0, 0, 0);
  EXPECT_DOUBLE_EQ(sampleOf(ms, "bytes_sent"), 9000 + 900 + 100 + 10);
  EXPECT_DOUBLE_EQ(sampleOf(ms, "bytes_sent_activation"), 9100);
  EXPECT_DOUBLE_EQ(sampleOf(ms, "bytes_out_per_s"), 110);
  EXPECT_EQ(agg.device(0).bytes_sent, 10010u);
  const auto links = agg.links();  // kept: `act` points into it (ASan found the temporary)
  const auto* act = link(links, "dev1", "activation");
  ASSERT_NE(act, nullptr);
  EXPECT_EQ(act->bytes, 9100u);
  EXPECT_DOUBLE_EQ(act->bytes_per_s, 100);
}

}  // namespace
}  // namespace edgerig
