// The current rate of a cumulative count: its growth over about the last two seconds. Every rate
// a run records and plots uses it, so a slowdown shows within seconds instead of decaying like 1/t
// into a whole-run average (which the run keeps apart, for its summary).
#pragma once

#include <deque>

namespace edgerig {

class RateWindow {
 public:
  static constexpr double kDefaultWindowS = 2.0;

  explicit RateWindow(double window_s = kDefaultWindowS) : window_s_(window_s) {}

  // The count's total at `time_s`. A total or a time below the last one (a restarted counter, a
  // new run) starts the window again from this point. A second total at the same time replaces
  // the first.
  void add(double time_s, double total) {
    if (!points_.empty() && (total < points_.back().total || time_s < points_.back().time_s)) {
      points_.clear();
    }
    if (!points_.empty() && time_s == points_.back().time_s) {
      points_.back().total = total;
    } else {
      points_.push_back({time_s, total});
    }
    // The window starts at the newest point at or before time_s - window: it always spans the
    // whole window once there is that much history, and whatever there is before.
    while (points_.size() >= 2 && points_[1].time_s <= time_s - window_s_) points_.pop_front();
  }

  // Growth per second from the window's first point to its last; 0 before two points.
  double rate() const {
    if (points_.size() < 2) return 0;
    const double dt = points_.back().time_s - points_.front().time_s;
    return dt > 0 ? (points_.back().total - points_.front().total) / dt : 0;
  }
  bool ready() const { return points_.size() >= 2; }
  // Seconds the current rate is measured over.
  double span() const {
    return points_.size() < 2 ? 0 : points_.back().time_s - points_.front().time_s;
  }
  void clear() { points_.clear(); }

 private:
  struct Point {
    double time_s = 0;
    double total = 0;
  };
  double window_s_;
  std::deque<Point> points_;
};

}  // namespace edgerig
