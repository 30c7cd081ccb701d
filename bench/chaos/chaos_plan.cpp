#include "bench/chaos/chaos_plan.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

namespace edgerig::chaos {
namespace {

const std::vector<AlgorithmChaos>& table() {
  // README "Algorithms", column "on a lost device"; docs/design.md for the details.
  static const std::vector<AlgorithmChaos> kTable = [] {
    std::vector<AlgorithmChaos> t;
    // The ring re-forms over the survivors; a restarted device rejoins with the current model.
    t.push_back({"allreduce", false, "mlp", true, false, 2, 2, "recovered", "device_rejoined",
                 R"({"bucketMiB": 2})"});
    // The gossip family: the graph is drawn again over the survivors; a restarted device
    // restarts the algorithm from the devices' average (the controller gathers it first).
    t.push_back(
        {"dpsgd", false, "mlp", true, false, 2, 2, "recovered", "", R"({"graph": "ring"})"});
    t.push_back({"sgp", false, "mlp", true, false, 2, 2, "recovered", "", "{}"});
    t.push_back({"sparse-push", false, "mlp", true, false, 2, 2, "recovered", "", "{}"});
    t.push_back({"edgegossip", false, "mlp", true, false, 2, 2, "recovered", "", "{}"});
    // Groups of 2 on 4 devices, so that a round has more than one group.
    t.push_back(
        {"dssync", false, "mlp", true, false, 2, 2, "recovered", "", R"({"groupSize": 2})"});
    // Three-phase recovery from replicas (any stage: the controller keeps a global replica and
    // the starting model); a restarted device rejoins through a re-plan. One down at a time:
    // replicas every 20/40 iterations so that a recovery retrains little.
    t.push_back({"ftpipehd", true, "lenet5", true, false, 2, 1, "recovered", "device_rejoined",
                 R"({"microBatches": 4, "replicateNeighbourEvery": 20,
                     "replicateGlobalEvery": 40})"});
    // A lost middle stage is routed around, then taken over after F misses; a lost first or
    // last stage ends the run (r = 1 covers one successor: one down at a time). A restart
    // restarts the pipeline from the gathered model.
    t.push_back({"respipe", true, "lenet5", true, true, 2, 1, "", "",
                 R"({"microBatches": 4, "redundancy": 1, "refreshEvery": 10,
                     "deadlineMs": 500, "takeoverMisses": 8})"});
    return t;
  }();
  return kTable;
}

double round1(double x) { return std::round(x * 10) / 10; }

}  // namespace

const AlgorithmChaos* findAlgorithm(const std::string& name) {
  for (const auto& a : table()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::vector<std::string> algorithmNames() {
  std::vector<std::string> out;
  for (const auto& a : table()) out.push_back(a.name);
  return out;
}

Result<std::vector<FaultConfig>> drawPlan(const ChaosOptions& o, const AlgorithmChaos& a) {
  if (!(o.every_s > 0))
    return invalidArgument("--every-s must be > 0, not " + std::to_string(o.every_s));
  if (!(o.minutes > 0)) return invalidArgument("--minutes must be > 0");
  if (o.devices < a.min_alive + 1 || (a.crash_middle_only && o.devices < 3)) {
    return invalidArgument("--devices " + std::to_string(o.devices) + " is too few for " + a.name +
                           ": it needs at least " +
                           std::to_string(std::max(a.min_alive + 1, a.crash_middle_only ? 3 : 0)) +
                           " to lose one and go on");
  }
  const double run_s = o.minutes * 60;
  const double last = run_s - o.tail_s;
  std::mt19937_64 rng(o.seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };

  const int max_down = std::min(a.max_down, o.devices - a.min_alive);
  std::vector<double> busy_until(o.devices, 0);  // a device takes one fault at a time
  std::vector<std::pair<double, double>> down;   // [crash, back) of each crash
  std::vector<FaultConfig> plan;
  auto fault = [&](double at, int d, const char* kind) {
    FaultConfig f;
    f.at_s = round1(at);
    f.device = d;
    f.kind = kind;
    return f;
  };

  for (double t = o.warmup_s;;) {
    t += o.every_s * uniform(0.7, 1.3);
    if (t > last) break;
    int down_now = 0;
    for (const auto& [from, to] : down) down_now += (from <= t && t < to) ? 1 : 0;
    std::vector<std::string> kinds = {"freeze", "slowdown", "link"};
    if (a.crash_restart && down_now < max_down) kinds.insert(kinds.begin(), "crash");
    const std::string kind = kinds[pick(static_cast<int>(kinds.size()))];
    std::vector<int> free;
    for (int d = 0; d < o.devices; ++d) {
      if (busy_until[d] > t) continue;
      if (kind == "crash" && a.crash_middle_only && (d == 0 || d == o.devices - 1)) continue;
      free.push_back(d);
    }
    if (free.empty()) continue;  // every eligible device is busy: no fault in this slot
    const int d = free[pick(static_cast<int>(free.size()))];
    if (kind == "crash") {
      const double back = t + uniform(4, 10);
      if (!o.crash_during_restart) {
        // Neither this crash in another restart's window nor another crash in this one's.
        // (On the times as the plan rounds them.)
        const double at = round1(t), back_at = round1(back);
        bool clash = false;
        for (const auto& f : plan) {
          if (f.kind == "restart" && at >= f.at_s - kRestartWindowBefore &&
              at <= f.at_s + kRestartWindowAfter)
            clash = true;
          if (f.kind == "crash" && f.at_s >= back_at - kRestartWindowBefore &&
              f.at_s <= back_at + kRestartWindowAfter)
            clash = true;
        }
        if (clash) continue;  // no fault in this slot
      }
      plan.push_back(fault(t, d, "crash"));
      plan.push_back(fault(back, d, "restart"));
      // Until it is back in the algorithm (restart at a boundary, link probe, rejoin).
      busy_until[d] = back + 8;
      down.emplace_back(t, back + 8);
    } else if (kind == "freeze") {
      auto f = fault(t, d, "freeze");
      f.freeze_s = round1(uniform(0.5, o.max_freeze_s));
      plan.push_back(f);
      busy_until[d] = t + f.freeze_s + 2;
    } else {
      auto f = fault(t, d, kind.c_str());
      if (kind == "slowdown") {
        f.slowdown = std::round(uniform(2, 6) * 2) / 2;
      } else {
        // delay always; jitter, a bandwidth cap and drops each in about half of them.
        f.delay_ms = std::round(uniform(5, 50));
        if (uniform(0, 1) < 0.5) f.jitter_ms = std::round(uniform(1, 10));
        if (uniform(0, 1) < 0.5) f.bandwidth_mbps = std::round(uniform(20, 200));
        if (uniform(0, 1) < 0.5) f.drop_probability = std::round(uniform(0.01, 0.05) * 100) / 100;
      }
      plan.push_back(f);
      const double clear = t + uniform(5, 15);
      plan.push_back(fault(clear, d, "clear"));
      busy_until[d] = clear + 1;
    }
  }
  std::stable_sort(plan.begin(), plan.end(),
                   [](const FaultConfig& x, const FaultConfig& y) { return x.at_s < y.at_s; });
  return plan;
}

std::string describePlan(const std::vector<FaultConfig>& plan) {
  std::string out;
  char buf[200];
  for (const auto& f : plan) {
    std::snprintf(buf, sizeof buf, "  %7.1f s  dev%d  %s", f.at_s, f.device, f.kind.c_str());
    out += buf;
    if (f.kind == "freeze") {
      std::snprintf(buf, sizeof buf, " %.1f s", f.freeze_s);
      out += buf;
    } else if (f.kind == "slowdown") {
      std::snprintf(buf, sizeof buf, " x%g", f.slowdown);
      out += buf;
    } else if (f.kind == "link") {
      std::snprintf(buf, sizeof buf, " delay %g ms jitter %g ms bandwidth %g Mbit/s drop %g",
                    f.delay_ms, f.jitter_ms, f.bandwidth_mbps, f.drop_probability);
      out += buf;
    }
    out += "\n";
  }
  return out;
}

std::string experimentJson(const ChaosOptions& o, const AlgorithmChaos& a,
                           const std::vector<FaultConfig>& plan) {
  using nlohmann::json;
  json algorithm = json::parse(a.params_json);
  algorithm["name"] = a.name;
  json faults = json::array();
  for (const auto& f : plan) {
    json j = {{"atS", f.at_s}, {"device", f.device}, {"kind", f.kind}};
    if (f.kind == "freeze") j["freezeS"] = f.freeze_s;
    if (f.kind == "slowdown") j["slowdown"] = f.slowdown;
    if (f.kind == "link") {
      j["delayMs"] = f.delay_ms;
      if (f.jitter_ms > 0) j["jitterMs"] = f.jitter_ms;
      if (f.bandwidth_mbps > 0) j["bandwidthMbps"] = f.bandwidth_mbps;
      if (f.drop_probability > 0) j["dropProbability"] = f.drop_probability;
    }
    faults.push_back(j);
  }
  json e = {
      {"name", "chaos-" + a.name},
      {"description", "bench_chaos: a fault every ~" + std::to_string(o.every_s) +
                          " s drawn from seed " + std::to_string(o.seed)},
      {"seed", o.seed},
      {"devices", {{"localCount", o.devices}, {"threadsPerAgent", 1}}},
      {"model", {{"name", a.model}}},
      {"dataset",
       {{"name", "synthetic"}, {"syntheticSize", 4096}, {"testLimit", 512}, {"split", "iid"}}},
      {"algorithm", algorithm},
      {"training",
       {{"batchSize", 32},
        {"learningRate", 0.05},
        {"momentum", 0.9},
        {"epochs", 100000},
        {"maxSeconds", o.minutes * 60},
        {"evalEvery", 500},
        {"evalSamples", 256}}},
      {"faults", faults}};
  return e.dump(2) + "\n";
}

}  // namespace edgerig::chaos
