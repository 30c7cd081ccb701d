// The current rate of a cumulative count: exact for a steady count, a step change is whole once
// the window has passed it (where a whole-run average would still be far off), a restarted count
// starts again, and the window keeps at least its span of history.
#include <gtest/gtest.h>

#include "core/controller/rate_window.h"

namespace edgerig {
namespace {

TEST(RateWindow, SteadyCountGivesItsRate) {
  RateWindow w;
  EXPECT_EQ(w.rate(), 0);
  w.add(0, 0);
  EXPECT_FALSE(w.ready());
  for (int i = 1; i <= 40; ++i) w.add(0.25 * i, 100.0 * 0.25 * i);
  EXPECT_TRUE(w.ready());
  EXPECT_DOUBLE_EQ(w.rate(), 100);
  EXPECT_DOUBLE_EQ(w.span(), 2.0);
}

TEST(RateWindow, AStepShowsWithinTheWindowNotAfterTheWholeRun) {
  RateWindow w(2.0);
  double total = 0;
  // 60 s at 100/s, then 10/s, a point every 0.25 s.
  for (int i = 0; i <= 240; ++i) w.add(0.25 * i, total += (i ? 25.0 : 0.0));
  EXPECT_DOUBLE_EQ(w.rate(), 100);
  for (int i = 241; i <= 244; ++i) w.add(0.25 * i, total += 2.5);
  EXPECT_DOUBLE_EQ(w.rate(), (100 + 10) / 2.0);  // half-way: 1 s of each
  for (int i = 245; i <= 252; ++i) w.add(0.25 * i, total += 2.5);
  EXPECT_DOUBLE_EQ(w.rate(), 10);  // 2 s later it is the new rate
  // The whole-run average after 63 s would still read (6000 + 30) / 63 = 95.7.
}

TEST(RateWindow, ACountThatGoesDownStartsAgain) {
  RateWindow w;
  w.add(0, 0);
  w.add(1, 500);
  w.add(2, 10);  // a restarted agent's counter
  EXPECT_FALSE(w.ready());
  EXPECT_EQ(w.rate(), 0);
  w.add(3, 60);
  EXPECT_DOUBLE_EQ(w.rate(), 50);
}

TEST(RateWindow, SparsePointsKeepTheLastOneBeforeTheWindow) {
  RateWindow w(2.0);
  w.add(0, 0);
  w.add(5, 50);  // one slow iteration: the rate is over its 5 s, not undefined
  EXPECT_DOUBLE_EQ(w.rate(), 10);
  w.add(5, 60);  // the same moment again replaces it
  EXPECT_DOUBLE_EQ(w.rate(), 12);
}

}  // namespace
}  // namespace edgerig
