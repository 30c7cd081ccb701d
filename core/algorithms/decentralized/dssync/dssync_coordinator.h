// The controller side of `dssync` (divide and shuffle): it finds the sites from the measured
// link bandwidth (dssync_groups.h), and each round tells every device its group; the groups
// average by ring all-reduce inside themselves. When the links are measured again (the
// controller's re-probe) or a device is lost, it finds the sites again; each change of sites is
// a `groups_changed` event, and each round's groups go to graph.csv and the topology view (a ring
// per group, weight 1/|group|). A lost device mid-round: the survivors drop that round's
// averaging (they keep their local step) and the run goes on.
#pragma once

#include "core/algorithms/coordinator.h"
#include "core/algorithms/decentralized/dssync/dssync_groups.h"
#include "decentralized.pb.h"

namespace edgerig {

// Event kind: the sites (and so the groups) were found anew. Fields: sites, threshold_mbps,
// reason.
inline constexpr std::string_view kGroupsChanged = "groups_changed";

class DssyncCoordinator : public Coordinator {
 public:
  explicit DssyncCoordinator(RunContext& ctx);

  Status setup() override;
  int64_t iterationsPerEpoch() const override;
  int64_t trainSize() const override { return train_size_; }
  Result<StepResult> trainStep(int64_t iteration) override;
  Result<EvalResult> evaluate(int64_t samples) override;
  std::string layoutDescription() const override;
  Result<wire::ModelStateBlob> gatherState() override;
  void startFrom(wire::ModelStateBlob state) override { initial_state_ = std::move(state); }
  // The devices' mean weights and mean momentum (docs/design.md: a switch's handover).
  Result<Handover> gatherHandover() override;
  void startFrom(Handover handover) override {
    initial_state_ = std::move(handover.weights);
    initial_momentum_ = std::move(handover.optimizer);
  }

 private:
  Status start(const std::vector<int>& devices);
  // Drops lost devices from the members (a new ring epoch, RingReady from each survivor).
  Status reform(const std::string& why);
  // reform when a device was lost since the last look (or the alive devices are not the
  // members), else nothing.
  Status reformIfLost(const std::string& why);
  // Finds the sites of the current members from the measured links; an event if they changed.
  void regroup(const std::string& why);
  void publishRound(int64_t round, const dssync::RoundGroups& groups);
  std::vector<int> members() const;

  RunContext& ctx_;
  decentralized::RingSetup setup_;
  dssync::Schedule schedule_;
  double bottleneck_ratio_ = 4;
  double fast_link_ = 0;  // bytes/s
  dssync::Sites sites_;
  bool sites_known_ = false;
  int64_t links_seen_ = -1;
  std::string current_;  // the current round's groups, described
  int64_t train_size_ = 0;
  int64_t test_size_ = 0;
  int64_t eval_counter_ = 0;
  wire::ModelStateBlob initial_state_;
  wire::ModelStateBlob initial_momentum_;  // empty: fresh momentum
};

}  // namespace edgerig
