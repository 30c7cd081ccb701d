// The link bandwidth probe, controller side (docs/design.md "Link bandwidth probe"): rounds in
// which every live device sends one short burst to one other over its real data link and the
// receiver reports how fast it came; the measured matrix is what RunContext::linkBandwidth gives.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/controller/controller_run.h"
#include "core/runlog/event_kinds.h"
#include "device_bridge/log.h"

namespace edgerig {
namespace {

auto log() { return bridge::logger("edgerig.controller"); }

// A burst is kProbeChunks chunks of kProbeChunkBytes (1 MiB): 168 ms at 50 Mbit/s, so a process
// held off the CPU for 15 ms at either end of it moves the result by under 10 %. The receiver
// times chunks 2..32 (992 KiB) from the first's arrival, so the dial, the handshake and the
// link's delay are not in the measurement.
constexpr uint32_t kProbeChunks = 32;
constexpr uint32_t kProbeChunkBytes = 32u << 10;
// A round whose reports have not all come by then leaves its missing links unmeasured (a burst
// of 1 MiB needs 5 s at 1.7 Mbit/s).
constexpr auto kProbeRoundTimeout = std::chrono::seconds(5);
// Measured links that differ by more than this ratio from the previous probe have changed.
constexpr double kChangeRatio = 1.25;

std::string rateText(double bytes_per_s) {
  char buf[64];
  if (bytes_per_s <= 0) return "unmeasured";
  std::snprintf(buf, sizeof buf, "%.1f Mbit/s", bytes_per_s * 8 / 1e6);
  return buf;
}

bool changed(double before, double after) {
  if ((before > 0) != (after > 0)) return true;
  if (before <= 0) return false;
  const double r = after / before;
  return r > kChangeRatio || r < 1 / kChangeRatio;
}

}  // namespace

double Controller::Run::linkBandwidth(int from, int to) const {
  if (from < 0 || to < 0 || from >= static_cast<int>(bandwidth_.size()) ||
      to >= static_cast<int>(bandwidth_[static_cast<size_t>(from)].size())) {
    return 0.0;
  }
  return bandwidth_[static_cast<size_t>(from)][static_cast<size_t>(to)];
}

Status Controller::Run::probeRound(uint64_t id, const std::vector<std::pair<int, int>>& pairs,
                                   std::vector<std::vector<double>>& into) {
  std::set<std::pair<int, int>> pending(pairs.begin(), pairs.end());
  for (const auto& [from, to] : pairs) {
    wire::Envelope env;
    auto* p = env.mutable_probe_request();
    p->set_probe_id(id);
    p->set_device(from);
    for (int d = 0; d < pool_->size(); ++d) p->add_peers(pool_->address(d));
    p->add_targets(to);
    p->set_chunks(kProbeChunks);
    p->set_chunk_bytes(kProbeChunkBytes);
    pool_->send(from, std::move(env));
  }
  const auto deadline = Clock::now() + kProbeRoundTimeout;
  while (!pending.empty() && Clock::now() < deadline) {
    if (owner_.stop_.load()) return Status(StatusCode::kAborted, "stopped on request");
    auto in = pool_->next(kPumpSlice);
    if (!in) continue;
    if (in->closed) {  // the device is lost: its bursts will not come
      std::erase_if(pending,
                    [&](const auto& p) { return p.first == in->device || p.second == in->device; });
    } else if (in->env.has_probe_report()) {
      const auto& r = in->env.probe_report();
      const std::pair<int, int> link{r.from(), in->device};
      if (r.probe_id() != id) continue;  // a late report of an earlier round
      if (!pending.count(link) || r.sender_name() != pool_->name(link.first)) {
        // The receiver is the session it came on; the sender is the name its link
        // authenticated with. A report that matches neither the schedule nor that name is not
        // taken as a measurement.
        log()->warn(
            "probe report from {} about a burst from {} (claimed device {}) ignored: no "
            "such burst in this round",
            pool_->name(in->device), r.sender_name(), r.from());
        continue;
      }
      pending.erase(link);
      if (r.seconds() > 0 && r.bytes() > 0) {
        into[static_cast<size_t>(link.first)][static_cast<size_t>(link.second)] =
            static_cast<double>(r.bytes()) / r.seconds();
      }
      continue;
    }
    if (auto st = handle(std::move(*in)); !st) return st;
  }
  for (const auto& [from, to] : pending) {
    log()->warn("no probe report for {} -> {} within {} s; that link stays unmeasured",
                pool_->name(from), pool_->name(to), kProbeRoundTimeout.count());
  }
  return Status::ok();
}

Status Controller::Run::probeLinks(const std::string& why) {
  const auto started = Clock::now();
  const int n = pool_->size();
  const std::vector<int> live = aliveDevices();
  const int m = static_cast<int>(live.size());
  std::vector<std::vector<double>> measured(static_cast<size_t>(n),
                                            std::vector<double>(static_cast<size_t>(n), 0.0));
  // Rounds in which no device takes part in two bursts: the pairs of a round-robin tournament
  // (the circle method), each played twice, a -> b then b -> a. A device that received and sent
  // at once would hold the ACKs of what it receives behind what it sends, so a cap on its way out
  // would show on its way in too (it did, with tc tbf: 72 Mbit/s measured into a device whose
  // 50 Mbit/s qdisc was busy with its own burst). 2(m-1) rounds cover every ordered pair.
  std::vector<int> seats = live;
  if (seats.size() % 2 == 1) seats.push_back(-1);  // the device seated with -1 sits out
  const int k = static_cast<int>(seats.size());
  for (int r = 0; r + 1 < k; ++r) {
    std::vector<std::pair<int, int>> there, back;
    for (int i = 0; i < k / 2; ++i) {
      const int a = seats[static_cast<size_t>(i)], b = seats[static_cast<size_t>(k - 1 - i)];
      if (a < 0 || b < 0) continue;
      there.emplace_back(a, b);
      back.emplace_back(b, a);
    }
    for (const auto* pairs : {&there, &back}) {
      if (pairs->empty()) continue;
      if (auto st = probeRound(++probe_id_, *pairs, measured); !st) return st;
    }
    std::rotate(seats.begin() + 1, seats.end() - 1, seats.end());  // seat 0 stays
  }
  const double took = std::chrono::duration<double>(Clock::now() - started).count();
  links_changed_.clear();

  std::vector<LinkBandwidthRecord> rows;
  std::string changes;
  int measured_links = 0;
  std::pair<int, int> slowest{-1, -1}, fastest{-1, -1};
  auto at = [&](const std::pair<int, int>& l) {
    return measured[static_cast<size_t>(l.first)][static_cast<size_t>(l.second)];
  };
  // One probe, one time: every row of it carries the same time_s, so a reader tells the probes
  // apart by it (stamped row by row, a probe could straddle a millisecond and read as two).
  const double probed_at = now();
  for (int a : live) {
    for (int b : live) {
      if (a == b) continue;
      const double v = measured[static_cast<size_t>(a)][static_cast<size_t>(b)];
      rows.push_back(LinkBandwidthRecord{probed_at, iteration_, pool_->name(a), pool_->name(b), v});
      if (v > 0) {
        ++measured_links;
        if (slowest.first < 0 || v < at(slowest)) slowest = {a, b};
        if (fastest.first < 0 || v > at(fastest)) fastest = {a, b};
      }
      if (probes_done_ > 0 && changed(linkBandwidth(a, b), v)) {
        changes += (changes.empty() ? "" : ", ") + pool_->name(a) + "->" + pool_->name(b) + " " +
                   rateText(linkBandwidth(a, b)) + " -> " + rateText(v);
      }
    }
  }
  log_->append(rows);
  bandwidth_ = measured;
  ++probes_done_;

  char buf[96];
  std::snprintf(buf, sizeof buf, "%d of %d links measured in %.2f s", measured_links, m * (m - 1),
                took);
  std::string detail = why + ": " + buf;
  if (slowest.first >= 0) {
    detail += "; slowest " + pool_->name(slowest.first) + "->" + pool_->name(slowest.second) + " " +
              rateText(at(slowest)) + ", fastest " + pool_->name(fastest.first) + "->" +
              pool_->name(fastest.second) + " " + rateText(at(fastest));
  }
  namespace f = events::fields;
  std::snprintf(buf, sizeof buf, "%.3f", took);
  event(std::string(events::kLinkProbe), detail, -1,
        {{std::string(f::kReason), why},
         {std::string(f::kSeconds), buf},
         {"links", std::to_string(measured_links)}});
  if (!changes.empty()) {
    event(std::string(events::kLinksChanged), why + ": " + changes, -1,
          {{std::string(f::kReason), why}});
  }
  if (owner_.observer_.on_bandwidth) {
    LinkBandwidthInfo info;
    for (int d = 0; d < n; ++d) info.devices.push_back(pool_->name(d));
    info.bytes_per_s = bandwidth_;
    info.time_s = now();
    info.iteration = iteration_;
    info.why = why;
    owner_.observer_.on_bandwidth(info);
  }
  return Status::ok();
}

Status Controller::Run::reprobeIfLinksChanged() {
  if (links_changed_.empty()) return Status::ok();
  return probeLinks(links_changed_);
}

}  // namespace edgerig
