#include "bench/chaos/chaos_check.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/runlog/event_kinds.h"

namespace edgerig::chaos {
namespace {

std::string deviceName(int d) { return "dev" + std::to_string(d); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The first event at or after `from` that `match` accepts; nullptr when none.
template <typename Match>
const RunEvent* firstAfter(const RunData& run, double from, Match match) {
  for (const auto& e : run.events) {
    if (e.time_s >= from && match(e)) return &e;
  }
  return nullptr;
}

}  // namespace

Completeness checkCompleteness(const RunData& run) {
  Completeness c;
  // (metric, iteration) -> rows
  std::map<std::string, std::map<int64_t, int>> rows;
  for (const auto& m : run.metrics) {
    if (!m.device.empty()) continue;
    if (std::find(kPerIterationMetrics.begin(), kPerIterationMetrics.end(), m.metric) ==
        kPerIterationMetrics.end()) {
      continue;
    }
    ++rows[m.metric][m.iteration];
    if (m.metric == kPerIterationMetrics.front())
      c.iterations = std::max(c.iterations, m.iteration);
  }
  auto problem = [&](const std::string& what) {
    if (c.first_problem.empty()) c.first_problem = what;
  };
  for (const auto& metric : kPerIterationMetrics) {
    const auto& per = rows[metric];
    for (int64_t it = 1; it <= c.iterations; ++it) {
      auto f = per.find(it);
      const int n = f == per.end() ? 0 : f->second;
      if (n == 0) {
        ++c.missing;
        problem("metrics.csv: no " + metric + " row for iteration " + std::to_string(it));
      } else if (n > 1) {
        c.duplicated += n - 1;
        problem("metrics.csv: " + std::to_string(n) + " " + metric + " rows for iteration " +
                std::to_string(it));
      }
    }
    for (const auto& [it, n] : per) {
      if (it < 1 || it > c.iterations) {
        c.duplicated += n;
        problem("metrics.csv: " + metric + " row for iteration " + std::to_string(it) +
                " outside 1.." + std::to_string(c.iterations));
      }
    }
  }
  for (size_t i = 1; i < run.events.size(); ++i) {
    if (run.events[i].time_s < run.events[i - 1].time_s) {
      ++c.events_out_of_order;
      char buf[160];
      std::snprintf(buf, sizeof buf, "events.csv: row %zu (%s at %.3f s) before row %zu's %.3f s",
                    i + 1, run.events[i].kind.c_str(), run.events[i].time_s, i,
                    run.events[i - 1].time_s);
      problem(buf);
    }
  }
  if (c.iterations == 0) problem("metrics.csv: no iteration finished");
  return c;
}

EndState endState(const RunData& run) {
  EndState s;
  for (const auto& e : run.events) {
    if (e.kind == events::kRunFinished || e.kind == events::kRunFailed ||
        e.kind == events::kRunStopped) {
      s.kind = e.kind;
      s.detail = e.detail;
    }
  }
  return s;
}

std::map<std::string, FaultReport::Count> FaultReport::byKind() const {
  std::map<std::string, Count> out;
  for (const auto& f : faults) {
    auto& c = out[f.planned.kind];
    ++c.planned;
    c.injected += f.injected ? 1 : 0;
    c.survived += f.survived ? 1 : 0;
  }
  return out;
}

bool FaultReport::ok() const {
  if (!unexpected_losses.empty()) return false;
  return std::all_of(faults.begin(), faults.end(),
                     [](const FaultOutcome& f) { return f.injected && f.survived; });
}

FaultReport judgeFaults(const std::vector<FaultConfig>& plan, const AlgorithmChaos& a,
                        const RunData& run) {
  FaultReport r;
  const EndState end = endState(run);
  const bool failed = end.kind == events::kRunFailed;
  int64_t last_iteration = 0;
  for (const auto& m : run.metrics) {
    if (m.device.empty() && m.metric == kPerIterationMetrics.front())
      last_iteration = std::max(last_iteration, m.iteration);
  }
  std::set<const RunEvent*> used;
  std::set<const RunEvent*> explained_losses;
  std::vector<size_t> order(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return plan[x].at_s < plan[y].at_s; });
  r.faults.resize(plan.size());
  std::vector<const RunEvent*> applied(plan.size(), nullptr);
  for (size_t i : order) {
    const auto& f = plan[i];
    auto& out = r.faults[i];
    out.planned = f;
    const std::string dev = deviceName(f.device);
    const std::string_view kind = f.kind == "clear" ? events::kFaultCleared : events::kFaultApplied;
    const RunEvent* e = firstAfter(run, 0, [&](const RunEvent& ev) {
      return !used.count(&ev) && ev.kind == kind && ev.device == dev &&
             (f.kind == "clear" || ev.field(events::fields::kFault) == f.kind);
    });
    if (e == nullptr) {
      out.why = "no " + std::string(kind) + " event for it (the run ended before, or it stalled)";
      continue;
    }
    used.insert(e);
    applied[i] = e;
    out.injected = true;
    out.applied_s = e->time_s;
  }
  for (size_t i : order) {
    const auto& f = plan[i];
    auto& out = r.faults[i];
    if (!out.injected) continue;
    const RunEvent* e = applied[i];
    const std::string dev = deviceName(f.device);
    // A crash explains the device's next loss, whatever else happened.
    const RunEvent* crash_lost = nullptr;
    if (f.kind == "crash") {
      crash_lost = firstAfter(run, e->time_s, [&](const RunEvent& ev) {
        return ev.kind == events::kDeviceLost && ev.device == dev;
      });
      if (crash_lost != nullptr) explained_losses.insert(crash_lost);
    }
    if (failed) {
      out.why = "the run failed: " + end.detail;
      continue;
    }
    if (e->iteration >= last_iteration) {
      out.why = "no iteration finished after it";
      continue;
    }
    auto is = [&](std::string_view kind, const std::string& device) {
      return [kind, device](const RunEvent& ev) {
        return ev.kind == kind && (device.empty() || ev.device == device);
      };
    };
    if (f.kind == "crash") {
      const RunEvent* lost = crash_lost;
      // The restart paired with it: the next planned restart of the device.
      const FaultOutcome* restart = nullptr;
      for (size_t j : order) {
        if (plan[j].kind == "restart" && plan[j].device == f.device && plan[j].at_s > f.at_s) {
          restart = &r.faults[j];
          break;
        }
      }
      if (lost == nullptr) {
        // A restart that came before the heartbeat gave up also ends the crash well.
        const bool restarted_first = restart != nullptr && restart->injected;
        if (!restarted_first) {
          out.why = "no device_lost for " + dev + " after its crash";
          continue;
        }
      } else {
        if (!a.after_loss.empty() &&
            firstAfter(run, lost->time_s, is(a.after_loss, "")) == nullptr) {
          out.why = "no " + a.after_loss + " event after " + dev + " was lost";
          continue;
        }
      }
      if (restart == nullptr || !restart->injected) {
        out.why = "its restart was not injected";
        continue;
      }
      const RunEvent* back = firstAfter(run, restart->applied_s, is(events::kDeviceRestarted, dev));
      if (back == nullptr) {
        out.why = "no device_restarted for " + dev + " after its restart";
        continue;
      }
      if (!a.after_restart.empty() &&
          firstAfter(run, back->time_s, is(a.after_restart, dev)) == nullptr) {
        out.why = "no " + a.after_restart + " for " + dev + " after its restart";
        continue;
      }
      out.survived = true;
    } else if (f.kind == "restart") {
      if (firstAfter(run, e->time_s, is(events::kDeviceRestarted, dev)) == nullptr) {
        out.why = "no device_restarted for " + dev;
        continue;
      }
      out.survived = true;
    } else {
      if (f.kind == "freeze") {
        const RunEvent* lost = firstAfter(run, e->time_s, is(events::kDeviceLost, dev));
        if (lost != nullptr && lost->time_s <= e->time_s + f.freeze_s + 1) {
          out.why = dev + " was lost during a " + std::to_string(f.freeze_s) + " s freeze";
          continue;
        }
      }
      out.survived = true;
    }
  }
  for (const auto& ev : run.events) {
    if (ev.kind == events::kDeviceLost && !explained_losses.count(&ev)) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "%s lost at %.1f s (iteration %lld): %s", ev.device.c_str(),
                    ev.time_s, static_cast<long long>(ev.iteration), ev.detail.c_str());
      r.unexpected_losses.push_back(buf);
    }
  }
  return r;
}

RssVerdict judgeRss(const std::vector<double>& all_t, const std::vector<double>& all_mib) {
  RssVerdict v;
  const size_t all_n = std::min(all_t.size(), all_mib.size());
  if (all_n == 0) return v;
  v.peak_mib = *std::max_element(all_mib.begin(), all_mib.begin() + static_cast<long>(all_n));
  v.end_mib = all_mib[all_n - 1];
  size_t from = 0;
  while (from < all_n && all_t[from] < all_t[0] + kRssWarmupS) ++from;
  if (from == all_n) return v;
  const std::vector<double> t(all_t.begin() + static_cast<long>(from),
                              all_t.begin() + static_cast<long>(all_n));
  const std::vector<double> mib(all_mib.begin() + static_cast<long>(from),
                                all_mib.begin() + static_cast<long>(all_n));
  const size_t n = t.size();
  v.start_mib = mib.front();
  const size_t third = n / 3;
  if (third > 0) {
    v.first_third_mib =
        median(std::vector<double>(mib.begin(), mib.begin() + static_cast<long>(third)));
    v.last_third_mib = median(std::vector<double>(mib.begin() + static_cast<long>(n - third),
                                                  mib.begin() + static_cast<long>(n)));
  }
  double st = 0, sm = 0;
  for (size_t i = 0; i < n; ++i) {
    st += t[i];
    sm += mib[i];
  }
  const double mt = st / static_cast<double>(n), mm = sm / static_cast<double>(n);
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (t[i] - mt) * (mib[i] - mm);
    den += (t[i] - mt) * (t[i] - mt);
  }
  v.slope_mib_per_min = den > 0 ? num / den * 60 : 0;
  v.judged = n >= kRssMinSamples;
  if (v.judged) {
    const double margin = std::max(kRssMarginFraction * v.first_third_mib, kRssMarginMib);
    v.flat = v.last_third_mib <= v.first_third_mib + margin;
  }
  return v;
}

}  // namespace edgerig::chaos
