// The model as a strip of layers, each coloured by the device that holds it, widths by cost
// (parameters, profiled compute time or activation bytes), cut points between stages marked;
// hovering a layer shows its name, shape, parameters, activation size and profiled time. Before
// a run the cuts can be dragged to other layer boundaries.
#pragma once

#include <QString>
#include <QWidget>
#include <vector>

#include "core/model/layer_info.h"
#include "core/runlog/run_log.h"
#include "ui/ui_types.h"

class QComboBox;
class QVariantAnimation;

namespace edgerig::ui {

class PartitionStrip : public QWidget {
  Q_OBJECT

 public:
  enum class WidthBy { kParameters, kComputeTime, kActivationBytes };
  Q_ENUM(WidthBy)

  explicit PartitionStrip(QWidget* parent = nullptr);

  void setLayers(std::vector<LayerInfo> layers);
  void setDevices(const std::vector<DeviceStatus>& devices);
  // The plan's stages → devices (as setDevices does from each device's layers), and its
  // profiled layer times when it has them.
  void setPlan(const PlanInfo& plan);
  // A decentralized run: every one of `devices` holds the whole model (no cuts).
  void setReplicas(const std::vector<int>& devices);
  const std::vector<int>& replicas() const { return replicas_; }
  // A pipeline whose stage k keeps replicas of stages k+1 .. k+r (an algorithm parameter
  // `redundancy`, as respipe's): under each stage of the plan, the devices that hold a replica
  // of it, and a band in the colour of the nearest one. 0: none.
  void setStageReplicas(int redundancy);
  // The devices holding a replica of stage s of the current plan (nearest first).
  std::vector<int> replicaHoldersOf(int stage) const;
  // A pipeline whose stage k sends its replica to stage k+1 and the last stage to the controller
  // (ftpipehd), told by its run-level metrics: `neighbour_replica_iteration` (the iteration the
  // newest neighbour replicas were taken at; -1: none since the stages last started) and
  // `global_replica_iteration` (every stage's copy on the controller). Any metric's iteration is
  // the run's current one.
  void addMetrics(const std::vector<MetricSample>& metrics);
  // Where stage s's replica lives and how old it is: "replica on dev2, 13 it old", "replica on
  // the controller, 40 it old" (none on the next stage since a restart), "no replica yet"; empty
  // when the run reports no replicas.
  QString successorReplicaText(int stage) const;
  void clearAssignment();

  void setWidthBy(WidthBy by);
  WidthBy widthBy() const { return width_by_; }
  // Compute time falls back to parameters until the layers are profiled.
  WidthBy effectiveWidthBy() const;
  // "width by compute time", "width by parameters (compute time: not profiled yet)".
  QString widthLegend() const;
  // Per layer and mini-batch (PlanInfo::layer_time_s); ignored unless one per layer.
  void setLayerTimes(std::vector<double> seconds);
  bool hasLayerTimes() const;
  // A combo (objectName "widthByCombo") kept in step with this strip, for the window to place
  // beside the strip's title.
  QComboBox* createWidthByCombo(QWidget* parent);

  // Proposed cuts before a run, drawn dashed; empty clears them.
  void setCuts(std::vector<int> cuts);
  const std::vector<int>& proposedCuts() const { return proposed_; }
  // Said under proposed cuts in place of their stage names, when the run will cut elsewhere
  // (a plan made from the profile at the start); empty: the stages are named.
  void setProposalNote(const QString& note);
  const QString& proposalNote() const { return proposal_note_; }
  // When editable, each drawn cut is a handle the mouse drags to another layer boundary.
  void setCutsEditable(bool editable);
  bool cutsEditable() const { return cuts_editable_; }
  // The x of the boundary before `layer` (1..layerCount()-1), where a cut there is drawn.
  int boundaryX(int layer) const;

  int layerCount() const { return static_cast<int>(layers_.size()); }
  const std::vector<LayerInfo>& layers() const { return layers_; }
  // -1 where no layer is drawn.
  int layerAt(const QPoint& pos) const;
  QRect layerRect(int layer) const;
  // The device index holding a layer, -1 when unassigned.
  int deviceOf(int layer) const { return owner_.at(static_cast<size_t>(layer)); }
  QColor layerColor(int layer) const;
  QString layerToolTip(int layer) const;
  // Layer indices where a new stage starts (the plan's cuts).
  std::vector<int> cuts() const;
  // A new plan that moves cuts (as many stages as before: a re-plan, a migration) slides each cut
  // from where it was to its new boundary (kCutMoveMs), so the move is seen; the x where cut i of
  // cuts() is drawn now, and the animation (tests step it).
  static constexpr int kCutMoveMs = 700;
  int drawnCutX(size_t i) const;
  QVariantAnimation* cutAnimation() const { return cut_move_; }

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 signals:
  // A drag of a cut ended somewhere new: the full, strictly increasing cut list.
  void cutsEdited(const std::vector<int>& cuts);
  void widthByChanged(edgerig::ui::PartitionStrip::WidthBy by);

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;

 private:
  QRect stripArea() const;
  std::vector<double> layerWeights() const;
  // The cuts a drag starts from: the proposed ones, else the plan's.
  std::vector<int> editableCuts() const;
  int handleAt(const QPoint& pos) const;  // index into editableCuts(), -1 if none
  int stageOfLayer(int layer, const std::vector<int>& cuts) const;

  std::vector<LayerInfo> layers_;
  std::vector<int> owner_;             // per layer
  std::vector<QString> device_names_;  // by device index
  std::vector<bool> device_lost_;
  std::vector<double> layer_times_;
  std::vector<int> proposed_;
  QString proposal_note_;
  std::vector<int> replicas_;      // devices that each hold the whole model
  std::vector<int> plan_devices_;  // device per stage of the current plan
  int stage_replicas_ = 0;         // r: stage k holds replicas of k+1 .. k+r
  // The successor replicas' iterations (kNoReport: the run reports none), and the run's newest.
  static constexpr int64_t kNoReport = -2;
  int64_t neighbour_at_ = kNoReport, global_at_ = kNoReport, now_ = 0;
  std::string plan_algorithm_;             // another algorithm's plan forgets the replicas
  std::vector<int> moved_from_;            // the cuts before the plan whose move is being drawn
  QVariantAnimation* cut_move_ = nullptr;  // 0 → 1 over kCutMoveMs
  QString deviceName(int device) const;
  WidthBy width_by_ = WidthBy::kParameters;
  bool cuts_editable_ = false;
  int drag_ = -1;  // index of the cut being dragged
  std::vector<int> drag_start_;
};

}  // namespace edgerig::ui
