// bench_chaos's pure parts: the fault schedule drawn from a seed keeps each algorithm's promises,
// the experiment it writes is one the real parser accepts, and the verdicts on a run folder
// (written by RunLog, read back by readRun) catch what is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "bench/chaos/chaos_check.h"
#include "bench/chaos/chaos_plan.h"
#include "core/catalog/catalog.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/run_log.h"
#include "tests/support/scratch_dir.h"

namespace edgerig::chaos {
namespace {

ChaosOptions options(const std::string& algorithm, uint64_t seed, double minutes = 30) {
  ChaosOptions o;
  o.algorithm = algorithm;
  o.seed = seed;
  o.minutes = minutes;
  return o;
}

std::vector<FaultConfig> draw(const ChaosOptions& o) {
  const AlgorithmChaos* a = findAlgorithm(o.algorithm);
  EXPECT_NE(a, nullptr) << o.algorithm;
  auto plan = drawPlan(o, *a);
  EXPECT_TRUE(plan.isOk()) << plan.status().message();
  return plan ? *plan : std::vector<FaultConfig>{};
}

TEST(ChaosPlan, SameSeedSamePlanOtherSeedOther) {
  const auto a = draw(options("allreduce", 7));
  EXPECT_EQ(a, draw(options("allreduce", 7)));
  EXPECT_NE(a, draw(options("allreduce", 8)));
}

TEST(ChaosPlan, AFaultEveryEverySecondsOnAverage) {
  // Faults that start something (not the restart or clear that ends one): 30 min at ~10 s, minus
  // the warm-up and the tail, minus slots whose devices were all busy.
  const auto plan = draw(options("allreduce", 3));
  int started = 0;
  for (const auto& f : plan) started += (f.kind != "restart" && f.kind != "clear") ? 1 : 0;
  EXPECT_GE(started, 150);
  EXPECT_LE(started, (1800 - 20 - 30) / 7 + 1);
  std::map<std::string, int> kinds;
  for (const auto& f : plan) ++kinds[f.kind];
  for (const char* k : {"crash", "restart", "freeze", "slowdown", "link", "clear"})
    EXPECT_GT(kinds[k], 10) << k;
  EXPECT_EQ(kinds["crash"], kinds["restart"]);
  EXPECT_EQ(kinds["slowdown"] + kinds["link"], kinds["clear"]);
}

// Replays the plan device by device and checks every promise the drawing makes.
void checkPromises(const ChaosOptions& o, const AlgorithmChaos& a,
                   const std::vector<FaultConfig>& plan) {
  const double run_s = o.minutes * 60;
  for (size_t i = 1; i < plan.size(); ++i) ASSERT_LE(plan[i - 1].at_s, plan[i].at_s);
  std::vector<std::string> open(o.devices);  // the fault a device carries, "" when none
  int down = 0;
  for (const auto& f : plan) {
    SCOPED_TRACE(o.algorithm + " seed " + std::to_string(o.seed) + ": dev" +
                 std::to_string(f.device) + " " + f.kind + " at " + std::to_string(f.at_s));
    ASSERT_GE(f.device, 0);
    ASSERT_LT(f.device, o.devices);
    EXPECT_GE(f.at_s, o.warmup_s);
    EXPECT_LT(f.at_s, run_s);
    auto& cur = open[f.device];
    if (f.kind == "restart") {
      EXPECT_EQ(cur, "crash");
      --down;
      cur.clear();
    } else if (f.kind == "clear") {
      EXPECT_TRUE(cur == "slowdown" || cur == "link") << cur;
      cur.clear();
    } else {
      EXPECT_EQ(cur, "") << "a second fault on a device that carries one";
      EXPECT_LE(f.at_s, run_s - o.tail_s);
      if (f.kind == "crash") {
        EXPECT_TRUE(a.crash_restart);
        if (a.crash_middle_only) {
          EXPECT_NE(f.device, 0);
          EXPECT_NE(f.device, o.devices - 1);
        }
        ++down;
        EXPECT_LE(down, a.max_down);
        EXPECT_GE(o.devices - down, a.min_alive);
      }
      if (f.kind == "freeze") {
        EXPECT_GT(f.freeze_s, 0);
        EXPECT_LE(f.freeze_s, o.max_freeze_s);
        EXPECT_LT(f.freeze_s, 3.5) << "the controller's loss timeout";
      }
      if (f.kind == "slowdown") {
        EXPECT_GT(f.slowdown, 1);
      }
      if (f.kind == "link") {
        EXPECT_GT(f.delay_ms, 0);
      }
      if (f.kind != "freeze") cur = f.kind;
    }
  }
  for (int d = 0; d < o.devices; ++d) EXPECT_EQ(open[d], "") << "dev" << d << " left with a fault";
  // No crash in another device's restart window.
  for (const auto& r : plan) {
    if (r.kind != "restart") continue;
    for (const auto& c : plan) {
      if (c.kind != "crash" || c.device == r.device) continue;
      EXPECT_FALSE(c.at_s >= r.at_s - kRestartWindowBefore &&
                   c.at_s <= r.at_s + kRestartWindowAfter)
          << "dev" << c.device << " crashes at " << c.at_s << " s, dev" << r.device
          << " restarts at " << r.at_s << " s";
    }
  }
}

TEST(ChaosPlan, KeepsEveryAlgorithmsPromises) {
  for (const auto& name : algorithmNames()) {
    const AlgorithmChaos* a = findAlgorithm(name);
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      const auto o = options(name, seed);
      checkPromises(o, *a, draw(o));
      if (HasFatalFailure()) return;
    }
  }
}

TEST(ChaosPlan, CrashesDuringRestartsOnlyWhenAsked) {
  auto o = options("allreduce", 5);
  o.crash_during_restart = true;
  const auto plan = draw(o);
  int clashes = 0;
  for (const auto& r : plan) {
    for (const auto& c : plan) {
      if (r.kind == "restart" && c.kind == "crash" && c.device != r.device &&
          c.at_s >= r.at_s - kRestartWindowBefore && c.at_s <= r.at_s + kRestartWindowAfter)
        ++clashes;
    }
  }
  EXPECT_GT(clashes, 0) << "asked for, a 30-minute plan has some";
}

TEST(ChaosPlan, RespipeNeverCrashesAnEndStage) {
  // With 3 devices only the middle one may crash; several crash over 30 minutes.
  auto o = options("respipe", 4);
  o.devices = 3;
  int crashes = 0;
  for (const auto& f : draw(o)) {
    if (f.kind != "crash") continue;
    ++crashes;
    EXPECT_EQ(f.device, 1);
  }
  EXPECT_GT(crashes, 5);
}

TEST(ChaosPlan, BadOptionsAreNamed) {
  const AlgorithmChaos* a = findAlgorithm("allreduce");
  auto o = options("allreduce", 1);
  o.every_s = 0;
  auto p = drawPlan(o, *a);
  ASSERT_FALSE(p.isOk());
  EXPECT_NE(p.status().message().find("--every-s"), std::string::npos) << p.status().message();
  o = options("allreduce", 1);
  o.devices = 2;
  p = drawPlan(o, *a);
  ASSERT_FALSE(p.isOk());
  EXPECT_NE(p.status().message().find("--devices"), std::string::npos) << p.status().message();
  EXPECT_EQ(findAlgorithm("gpipe"), nullptr) << "gpipe promises no fault tolerance";
}

TEST(ChaosPlan, TheExperimentIsOneTheParserAccepts) {
  for (const auto& name : algorithmNames()) {
    const auto o = options(name, 2, 5);
    const auto plan = draw(o);
    const std::string json = experimentJson(o, *findAlgorithm(name), plan);
    auto cfg = parseExperiment(json, "chaos.json", knownNames());
    ASSERT_TRUE(cfg.isOk()) << name << ": " << cfg.status().message();
    EXPECT_EQ(cfg->algorithm.name, name);
    EXPECT_EQ(cfg->local_count, o.devices);
    EXPECT_DOUBLE_EQ(cfg->max_seconds, 300);
    EXPECT_EQ(cfg->faults, plan) << name;
  }
}

// ---- verdicts on a run folder ----

struct Folder {
  testsupport::ScratchDir dir{"chaos-check"};
  std::string path = dir.path("run");
  std::unique_ptr<RunLog> log = [&] {
    auto l = RunLog::create(path, "{}");
    EXPECT_TRUE(l.isOk());
    return std::move(l).value();
  }();
  void iteration(int64_t it, double t, const std::vector<std::string>& skip = {}) {
    for (const auto& m : kPerIterationMetrics) {
      if (std::find(skip.begin(), skip.end(), m) == skip.end())
        log->append(MetricSample{t, it, "", m, 0.5});
    }
    log->append(MetricSample{t, it, "dev0", "samples_per_s", 100});
  }
  void event(double t, int64_t it, const std::string& device, std::string_view kind,
             const std::string& fault = "") {
    RunEvent e{t, it, device, std::string(kind), "detail", {}};
    if (!fault.empty()) e.fields.push_back({std::string(events::fields::kFault), fault});
    log->append(e);
  }
  RunData read() {
    log.reset();
    auto d = readRun(path);
    EXPECT_TRUE(d.isOk()) << d.status().message();
    return d ? *d : RunData{};
  }
};

TEST(ChaosCheck, ACompleteFolderIsComplete) {
  Folder f;
  f.event(0, 0, "", events::kRunStarted);
  for (int64_t it = 1; it <= 20; ++it) f.iteration(it, static_cast<double>(it));
  f.event(21, 20, "", events::kRunFinished);
  const auto data = f.read();
  const auto c = checkCompleteness(data);
  EXPECT_TRUE(c.ok()) << c.first_problem;
  EXPECT_EQ(c.iterations, 20);
  EXPECT_EQ(endState(data).kind, "run_finished");
}

TEST(ChaosCheck, AMissingOrRepeatedIterationOrEventsOutOfOrderAreFound) {
  {
    Folder f;
    for (int64_t it = 1; it <= 10; ++it)
      f.iteration(it, 1, it == 4 ? std::vector<std::string>{"epoch"} : std::vector<std::string>{});
    const auto c = checkCompleteness(f.read());
    EXPECT_EQ(c.missing, 1);
    EXPECT_EQ(c.duplicated, 0);
    EXPECT_NE(c.first_problem.find("epoch row for iteration 4"), std::string::npos)
        << c.first_problem;
  }
  {
    Folder f;
    for (int64_t it = 1; it <= 10; ++it) f.iteration(it, 1);
    f.iteration(7, 2);  // the interrupted iteration logged twice
    const auto c = checkCompleteness(f.read());
    EXPECT_EQ(c.missing, 0);
    EXPECT_EQ(c.duplicated, static_cast<int64_t>(kPerIterationMetrics.size()));
    EXPECT_FALSE(c.ok());
  }
  {
    Folder f;
    for (int64_t it = 1; it <= 3; ++it) f.iteration(it, 1);
    f.event(5, 1, "", events::kEvaluation);
    f.event(4, 2, "", events::kEvaluation);
    f.event(6, 3, "", events::kEvaluation);
    const auto c = checkCompleteness(f.read());
    EXPECT_EQ(c.events_out_of_order, 1);
    EXPECT_FALSE(c.ok());
  }
}

// A crash of dev1 at 10 s and its restart at 16 s, with the events allreduce promises, then
// iterations on; `drop` names an event kind left out.
RunData crashRun(const std::string& drop, bool fail = false, bool extra_loss = false) {
  Folder f;
  f.event(0, 0, "", events::kRunStarted);
  int64_t it = 1;
  for (; it <= 10; ++it) f.iteration(it, static_cast<double>(it));
  f.event(10, 10, "dev1", events::kFaultApplied, "crash");
  if (drop != "device_lost") f.event(13.5, 10, "dev1", events::kDeviceLost);
  if (drop != "recovered") f.event(13.6, 10, "", events::kRecovered);
  for (; it <= 16; ++it) f.iteration(it, 4 + static_cast<double>(it));
  f.event(20, 16, "dev1", events::kFaultApplied, "restart");
  if (drop != "device_restarted") f.event(21, 16, "dev1", events::kDeviceRestarted);
  if (drop != "device_rejoined") f.event(21.5, 16, "dev1", events::kDeviceRejoined);
  if (extra_loss) f.event(25, 18, "dev2", events::kDeviceLost);
  for (; it <= 30; ++it) f.iteration(it, 6 + static_cast<double>(it));
  f.event(40, 30, "", fail ? events::kRunFailed : events::kRunFinished);
  return f.read();
}

std::vector<FaultConfig> crashPlan() {
  FaultConfig crash;
  crash.at_s = 10;
  crash.device = 1;
  crash.kind = "crash";
  FaultConfig restart = crash;
  restart.at_s = 16;
  restart.kind = "restart";
  return {crash, restart};
}

TEST(ChaosCheck, ACrashWithEveryPromisedEventIsSurvived) {
  const auto r = judgeFaults(crashPlan(), *findAlgorithm("allreduce"), crashRun(""));
  ASSERT_EQ(r.faults.size(), 2u);
  for (const auto& f : r.faults) {
    EXPECT_TRUE(f.injected);
    EXPECT_TRUE(f.survived) << f.why;
  }
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.byKind().at("crash").survived, 1);
}

TEST(ChaosCheck, EachMissingPromiseIsNamed) {
  const AlgorithmChaos& allreduce = *findAlgorithm("allreduce");
  for (const char* kind : {"recovered", "device_restarted", "device_rejoined"}) {
    const std::string drop = kind;
    const auto r = judgeFaults(crashPlan(), allreduce, crashRun(drop));
    EXPECT_FALSE(r.faults[0].survived) << drop;
    EXPECT_NE(r.faults[0].why.find(drop), std::string::npos) << r.faults[0].why;
    EXPECT_FALSE(r.ok());
  }
  // respipe promises no device_rejoined (the pipeline restarts from the gathered model).
  EXPECT_TRUE(
      judgeFaults(crashPlan(), *findAlgorithm("respipe"), crashRun("device_rejoined")).ok());
  const auto failed = judgeFaults(crashPlan(), allreduce, crashRun("", /*fail=*/true));
  EXPECT_FALSE(failed.faults[0].survived);
  EXPECT_TRUE(failed.unexpected_losses.empty()) << "the crash explains its loss";
  const auto lost = judgeFaults(crashPlan(), allreduce, crashRun("", false, /*extra_loss=*/true));
  EXPECT_TRUE(lost.faults[0].survived);
  ASSERT_EQ(lost.unexpected_losses.size(), 1u);
  EXPECT_NE(lost.unexpected_losses[0].find("dev2"), std::string::npos);
  EXPECT_FALSE(lost.ok());
}

TEST(ChaosCheck, AFaultWithoutItsEventIsNotInjected) {
  auto plan = crashPlan();
  FaultConfig freeze;
  freeze.at_s = 30;
  freeze.device = 3;
  freeze.kind = "freeze";
  freeze.freeze_s = 1;
  plan.push_back(freeze);
  const auto r = judgeFaults(plan, *findAlgorithm("allreduce"), crashRun(""));
  EXPECT_FALSE(r.faults[2].injected);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.byKind().at("freeze").injected, 0);
}

TEST(ChaosCheck, RssFlatOrGrowing) {
  std::vector<double> t, flat, growing;
  for (int i = 0; i < 1800; ++i) {
    t.push_back(i);
    flat.push_back(300 + (i % 7) - (i < 30 ? 40 : 0));  // a warm-up, then noise
    growing.push_back(300 + 2.0 * i / 60);              // 2 MiB a minute: +40 MiB per third
  }
  const auto f = judgeRss(t, flat);
  EXPECT_TRUE(f.judged);
  EXPECT_TRUE(f.flat);
  EXPECT_DOUBLE_EQ(f.start_mib, 300 + 30 % 7);  // the first sample after the warm-up
  EXPECT_DOUBLE_EQ(f.peak_mib, 306);
  // A process that grows only in its warm-up (LibTorch loading) is flat.
  std::vector<double> loading = flat;
  for (int i = 0; i < 20; ++i) loading[i] = 10 * i;
  EXPECT_TRUE(judgeRss(t, loading).flat);
  const auto g = judgeRss(t, growing);
  EXPECT_FALSE(g.flat);
  EXPECT_NEAR(g.slope_mib_per_min, 2.0, 1e-6);
  EXPECT_NEAR(g.end_mib, 300 + 2.0 * 1799 / 60, 1e-9);
  const auto short_lived = judgeRss({0, 31, 32, 33}, {1, 100, 200, 300});
  EXPECT_FALSE(short_lived.judged);
}

}  // namespace
}  // namespace edgerig::chaos
