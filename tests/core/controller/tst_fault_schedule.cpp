// The fault schedule: each fault fires once, when its iteration or time comes; a fault maps to
// the agent's command with its own parameters; and the device table's list of applied faults
// loses exactly one kind when that fault ends.
#include <gtest/gtest.h>

#include "core/controller/fault_schedule.h"

namespace edgerig {
namespace {

FaultConfig fault(const std::string& kind, double at_s, int64_t at_iteration = 0) {
  FaultConfig f;
  f.kind = kind;
  f.at_s = at_s;
  f.at_iteration = at_iteration;
  return f;
}

TEST(FaultSchedule, EachFaultFiresOnceWhenItsClockComes) {
  FaultSchedule s({fault("slowdown", 5), fault("freeze", 0, 10), fault("clear", 1)});
  EXPECT_EQ(s.remaining(), 3u);
  auto due = s.due(0.5, 9);
  EXPECT_TRUE(due.empty());
  due = s.due(1.0, 9);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, "clear");
  due = s.due(2.0, 10);  // the iteration clock, whatever the time
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, "freeze");
  due = s.due(100, 100);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, "slowdown");
  EXPECT_TRUE(s.due(200, 200).empty());  // never twice
  EXPECT_EQ(s.remaining(), 0u);
}

TEST(FaultSchedule, CommandsCarryOnlyTheirKindsParameters) {
  FaultConfig f = fault("link", 0);
  f.delay_ms = 20;
  f.jitter_ms = 5;
  f.bandwidth_mbps = 100;
  f.drop_probability = 0.01;
  f.slowdown = 7;  // not a link's
  auto c = toFaultCommand(f);
  EXPECT_EQ(c.kind(), wire::FaultCommand::KIND_LINK);
  EXPECT_EQ(c.delay_ms(), 20);
  EXPECT_EQ(c.jitter_ms(), 5);
  EXPECT_EQ(c.bandwidth_mbps(), 100);
  EXPECT_DOUBLE_EQ(c.drop_probability(), 0.01);
  EXPECT_EQ(c.slowdown(), 0);
  f = fault("freeze", 0);
  f.freeze_s = 2.5;
  c = toFaultCommand(f);
  EXPECT_EQ(c.kind(), wire::FaultCommand::KIND_FREEZE);
  EXPECT_EQ(c.freeze_s(), 2.5);
  EXPECT_EQ(describeFault(f), "freeze 2.5 s");
}

TEST(FaultSchedule, AnEndedFaultLeavesTheList) {
  EXPECT_EQ(withoutFault("slowdown x4, freeze 2 s", "freeze"), "slowdown x4");
  EXPECT_EQ(withoutFault("freeze 2 s, slowdown x4", "freeze"), "slowdown x4");
  EXPECT_EQ(withoutFault("freeze 2 s", "freeze"), "");
  EXPECT_EQ(withoutFault("freeze 2 s, link delay 20 ms jitter 0 ms bandwidth 0 Mbit/s drop 0, "
                         "freeze 1 s",
                         "freeze"),
            "link delay 20 ms jitter 0 ms bandwidth 0 Mbit/s drop 0");
  EXPECT_EQ(withoutFault("slowdown x4", "slow"), "slowdown x4");  // a whole kind, not a prefix
  EXPECT_EQ(withoutFault("", "freeze"), "");
}

}  // namespace
}  // namespace edgerig
