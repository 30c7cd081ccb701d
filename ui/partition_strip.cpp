#include "ui/partition_strip.h"

#include <QComboBox>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QVariantAnimation>
#include <algorithm>
#include <cmath>

#include "ui/format.h"
#include "ui/palette.h"

namespace edgerig::ui {
namespace {
constexpr int kMargin = 6;
constexpr int kLabelHeight = 18;  // device names under the strip
constexpr int kHandleReach = 7;   // px either side of a cut that grabs it

QString widthName(PartitionStrip::WidthBy by) {
  switch (by) {
    case PartitionStrip::WidthBy::kParameters:
      return QObject::tr("parameters");
    case PartitionStrip::WidthBy::kComputeTime:
      return QObject::tr("compute time");
    case PartitionStrip::WidthBy::kActivationBytes:
      return QObject::tr("activation bytes");
  }
  return {};
}
}  // namespace

PartitionStrip::PartitionStrip(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  cut_move_ = new QVariantAnimation(this);
  cut_move_->setStartValue(0.0);
  cut_move_->setEndValue(1.0);
  cut_move_->setDuration(kCutMoveMs);
  cut_move_->setEasingCurve(QEasingCurve::InOutCubic);
  connect(cut_move_, &QVariantAnimation::valueChanged, this, [this] { update(); });
  connect(cut_move_, &QVariantAnimation::finished, this, [this] {
    moved_from_.clear();
    update();
  });
}

int PartitionStrip::drawnCutX(size_t i) const {
  const std::vector<int> now = cuts();
  if (i >= now.size()) return -1;
  const int to = boundaryX(now[i]);
  if (moved_from_.size() != now.size()) return to;
  const double t = cut_move_->currentValue().toDouble();
  const int from = boundaryX(moved_from_[i]);
  return from + static_cast<int>(std::lround(t * (to - from)));
}

void PartitionStrip::setLayers(std::vector<LayerInfo> layers) {
  layers_ = std::move(layers);
  owner_.assign(layers_.size(), -1);
  layer_times_.clear();
  proposed_.clear();
  drag_ = -1;
  update();
}

void PartitionStrip::setReplicas(const std::vector<int>& devices) {
  owner_.assign(layers_.size(), -1);
  replicas_ = devices;
  update();
}

void PartitionStrip::setStageReplicas(int redundancy) {
  stage_replicas_ = std::max(0, redundancy);
  update();
}

std::vector<int> PartitionStrip::replicaHoldersOf(int stage) const {
  std::vector<int> holders;
  for (int back = 1; back <= stage_replicas_ && stage - back >= 0; ++back) {
    if (static_cast<size_t>(stage) >= plan_devices_.size()) break;
    const int d = plan_devices_[static_cast<size_t>(stage - back)];
    if (d >= 0 && d != plan_devices_[static_cast<size_t>(stage)] &&
        std::find(holders.begin(), holders.end(), d) == holders.end()) {
      holders.push_back(d);
    }
  }
  return holders;
}

void PartitionStrip::addMetrics(const std::vector<MetricSample>& metrics) {
  bool changed = false;
  for (const auto& m : metrics) {
    now_ = std::max(now_, m.iteration);
    if (!m.device.empty()) continue;
    if (m.metric == "neighbour_replica_iteration") {
      neighbour_at_ = static_cast<int64_t>(m.value);
      changed = true;
    } else if (m.metric == "global_replica_iteration") {
      global_at_ = static_cast<int64_t>(m.value);
      changed = true;
    }
  }
  if (changed || neighbour_at_ != kNoReport || global_at_ != kNoReport) update();
}

QString PartitionStrip::deviceName(int d) const {
  const QString name = static_cast<size_t>(d) < device_names_.size() ? device_names_[d] : QString();
  return name.isEmpty() ? QStringLiteral("device %1").arg(d) : name;
}

QString PartitionStrip::successorReplicaText(int stage) const {
  if (neighbour_at_ == kNoReport && global_at_ == kNoReport) return {};
  if (stage < 0 || static_cast<size_t>(stage) >= plan_devices_.size()) return {};
  const bool last = static_cast<size_t>(stage) + 1 == plan_devices_.size();
  const QString holder =
      last ? tr("the controller") : deviceName(plan_devices_[static_cast<size_t>(stage) + 1]);
  if (neighbour_at_ >= 0) {
    return tr("replica on %1, %2 it old")
        .arg(holder)
        .arg(std::max<int64_t>(0, now_ - neighbour_at_));
  }
  if (global_at_ >= 0) {
    return tr("replica on the controller, %1 it old").arg(std::max<int64_t>(0, now_ - global_at_));
  }
  return tr("no replica yet");
}

void PartitionStrip::setPlan(const PlanInfo& plan) {
  if (plan.algorithm != plan_algorithm_) {
    neighbour_at_ = global_at_ = kNoReport;
    plan_algorithm_ = plan.algorithm;
  }
  const std::vector<int> before = cuts();
  owner_.assign(layers_.size(), -1);
  replicas_.clear();
  plan_devices_ = plan.device_of_stage;
  const size_t stages = plan.stage_first_layer.size();
  for (size_t s = 0; s < stages; ++s) {
    const int first = std::max(0, plan.stage_first_layer[s]);
    const int last = s + 1 < stages ? plan.stage_first_layer[s + 1] : layerCount();
    const int device = s < plan.device_of_stage.size() ? plan.device_of_stage[s] : -1;
    for (int l = first; l < last && l < layerCount(); ++l) owner_[static_cast<size_t>(l)] = device;
  }
  if (!plan.layer_time_s.empty()) setLayerTimes(plan.layer_time_s);
  if (const std::vector<int> after = cuts(); before.size() == after.size() && before != after) {
    moved_from_ = before;
    cut_move_->stop();
    cut_move_->start();
  } else {
    moved_from_.clear();
    cut_move_->stop();
  }
  update();
}

void PartitionStrip::setWidthBy(WidthBy by) {
  if (by == width_by_) return;
  width_by_ = by;
  update();
  emit widthByChanged(by);
}

PartitionStrip::WidthBy PartitionStrip::effectiveWidthBy() const {
  return width_by_ == WidthBy::kComputeTime && !hasLayerTimes() ? WidthBy::kParameters : width_by_;
}

QString PartitionStrip::widthLegend() const {
  if (effectiveWidthBy() != width_by_) {
    return tr("width by parameters (compute time: not profiled yet)");
  }
  return tr("width by %1").arg(widthName(width_by_));
}

void PartitionStrip::setLayerTimes(std::vector<double> seconds) {
  layer_times_ = std::move(seconds);
  update();
  emit widthByChanged(width_by_);  // the legend may change from "not profiled yet"
}

bool PartitionStrip::hasLayerTimes() const {
  return !layers_.empty() && layer_times_.size() == layers_.size() &&
         std::any_of(layer_times_.begin(), layer_times_.end(), [](double t) { return t > 0; });
}

QComboBox* PartitionStrip::createWidthByCombo(QWidget* parent) {
  auto* combo = new QComboBox(parent);
  combo->setObjectName("widthByCombo");
  for (auto by : {WidthBy::kParameters, WidthBy::kComputeTime, WidthBy::kActivationBytes}) {
    combo->addItem(tr("Width by %1").arg(widthName(by)), static_cast<int>(by));
  }
  combo->setCurrentIndex(combo->findData(static_cast<int>(width_by_)));
  combo->setToolTip(widthLegend());
  connect(combo, &QComboBox::currentIndexChanged, this,
          [this, combo] { setWidthBy(static_cast<WidthBy>(combo->currentData().toInt())); });
  connect(this, &PartitionStrip::widthByChanged, combo, [this, combo](WidthBy by) {
    const QSignalBlocker block(combo);
    combo->setCurrentIndex(combo->findData(static_cast<int>(by)));
    combo->setToolTip(widthLegend());
  });
  return combo;
}

void PartitionStrip::setProposalNote(const QString& note) {
  proposal_note_ = note;
  update();
}

void PartitionStrip::setCuts(std::vector<int> cuts) {
  proposed_ = std::move(cuts);
  drag_ = -1;
  update();
}

void PartitionStrip::setCutsEditable(bool editable) {
  cuts_editable_ = editable;
  drag_ = -1;
  if (!editable) unsetCursor();
  update();
}

void PartitionStrip::setDevices(const std::vector<DeviceStatus>& devices) {
  for (const auto& d : devices) {
    if (d.index < 0) continue;
    if (static_cast<size_t>(d.index) >= device_names_.size()) {
      device_names_.resize(static_cast<size_t>(d.index) + 1);
      device_lost_.resize(static_cast<size_t>(d.index) + 1, false);
    }
    device_names_[static_cast<size_t>(d.index)] = QString::fromStdString(d.name);
    device_lost_[static_cast<size_t>(d.index)] = d.state == DeviceState::kLost;
    if (d.stage < 0) continue;
    // A new plan moves layers: first drop whatever this device held before.
    std::replace(owner_.begin(), owner_.end(), d.index, -1);
    for (int l = d.first_layer; l < d.last_layer && l < layerCount(); ++l) {
      if (l >= 0) owner_[static_cast<size_t>(l)] = d.index;
    }
  }
  update();
}

void PartitionStrip::clearAssignment() {
  neighbour_at_ = global_at_ = kNoReport;
  now_ = 0;
  plan_algorithm_.clear();
  owner_.assign(layers_.size(), -1);
  replicas_.clear();
  plan_devices_.clear();
  device_names_.clear();
  device_lost_.clear();
  update();
}

QRect PartitionStrip::stripArea() const {
  return QRect(kMargin, kMargin, width() - 2 * kMargin, height() - 2 * kMargin - kLabelHeight);
}

QRect PartitionStrip::layerRect(int layer) const {
  if (layer < 0 || layer >= layerCount()) return {};
  const std::vector<double> w = layerWeights();
  double total = 0;
  for (double x : w) total += x;
  const QRect area = stripArea();
  double x = area.left();
  for (int i = 0; i < layer; ++i) x += w[static_cast<size_t>(i)] / total * area.width();
  const double right = x + w[static_cast<size_t>(layer)] / total * area.width();
  return QRect(QPoint(static_cast<int>(std::lround(x)), area.top()),
               QPoint(static_cast<int>(std::lround(right)) - 1, area.bottom()));
}

std::vector<double> PartitionStrip::layerWeights() const {
  // Parameters by square root, so a 1M-parameter layer does not squeeze a pooling layer to
  // nothing; time and bytes proportionally. A floor keeps every layer hoverable.
  std::vector<double> w(layers_.size());
  const WidthBy by = effectiveWidthBy();
  double total = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    switch (by) {
      case WidthBy::kParameters:
        w[i] = std::sqrt(static_cast<double>(std::max<int64_t>(0, layers_[i].parameters)));
        break;
      case WidthBy::kComputeTime:
        w[i] = std::max(0.0, layer_times_[i]);
        break;
      case WidthBy::kActivationBytes:
        w[i] = static_cast<double>(std::max<int64_t>(0, layers_[i].activation_bytes));
        break;
    }
    total += w[i];
  }
  const double floor = total > 0 ? total * 0.04 : 1.0;
  for (auto& x : w) x = std::max(x, floor);
  return w;
}

int PartitionStrip::boundaryX(int layer) const { return layerRect(layer).left(); }

int PartitionStrip::layerAt(const QPoint& pos) const {
  for (int l = 0; l < layerCount(); ++l) {
    if (layerRect(l).contains(pos)) return l;
  }
  return -1;
}

QColor PartitionStrip::layerColor(int layer) const {
  const int d = deviceOf(layer);
  if (d < 0 && !proposed_.empty() && layer >= 0 && layer < layerCount()) {
    // Before a run: stage s will go to device s, shown paler than a live assignment.
    return deviceColor(stageOfLayer(layer, proposed_)).lighter(135);
  }
  if (d < 0) return QColor(215, 215, 215);
  const bool lost = static_cast<size_t>(d) < device_lost_.size() && device_lost_[d];
  return lost ? deviceColor(d).lighter(160) : deviceColor(d);
}

QString PartitionStrip::layerToolTip(int layer) const {
  if (layer < 0 || layer >= layerCount()) return {};
  const LayerInfo& l = layers_[static_cast<size_t>(layer)];
  QStringList shape;
  for (auto s : l.output_shape) shape << QString::number(s);
  const int d = deviceOf(layer);
  const QString device =
      d < 0 ? tr("not placed")
      : static_cast<size_t>(d) < device_names_.size() && !device_names_[d].isEmpty()
          ? device_names_[d]
          : QStringLiteral("device %1").arg(d);
  QString time = tr("compute time not profiled yet");
  if (hasLayerTimes()) {
    time = tr("profiled %1 ms per mini-batch")
               .arg(layer_times_[static_cast<size_t>(layer)] * 1000, 0, 'f', 2);
  }
  return QStringLiteral(
             "<b>%1</b> (layer %2)<br>%3<br>output %4<br>%5 parameters<br>"
             "activation %6 per sample<br>%8<br>on %7<br><i>%9</i>")
      .arg(QString::fromStdString(l.name))
      .arg(layer)
      .arg(QString::fromStdString(l.description).toHtmlEscaped())
      .arg(shape.join(QStringLiteral("×")))
      .arg(l.parameters)
      .arg(formatBytes(static_cast<double>(l.activation_bytes)))
      .arg(device)
      .arg(time)
      .arg(widthLegend());
}

std::vector<int> PartitionStrip::cuts() const {
  std::vector<int> out;
  for (int l = 1; l < layerCount(); ++l) {
    if (owner_[static_cast<size_t>(l)] != owner_[static_cast<size_t>(l) - 1]) out.push_back(l);
  }
  return out;
}

QSize PartitionStrip::sizeHint() const { return QSize(600, 64); }
QSize PartitionStrip::minimumSizeHint() const { return QSize(200, 56); }

void PartitionStrip::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing, false);
  const QRect area = stripArea();
  if (layers_.empty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(area, Qt::AlignCenter, tr("No model loaded"));
    return;
  }
  QFont small = font();
  small.setPointSizeF(std::max(7.0, font().pointSizeF() - 1));
  p.setFont(small);
  const QFontMetrics fm(small);
  for (int l = 0; l < layerCount(); ++l) {
    const QRect r = layerRect(l);
    const QColor c = layerColor(l);
    p.fillRect(r, c);
    p.setPen(QPen(c.darker(140), 1));
    p.drawRect(r.adjusted(0, 0, -1, -1));
    const QString name = QString::fromStdString(layers_[static_cast<size_t>(l)].name);
    if (fm.horizontalAdvance(name) + 4 <= r.width()) {
      p.setPen(textColorOn(c));
      p.drawText(r, Qt::AlignCenter, name);
    }
  }
  // Cut points: a dark bar across the strip; the owning device's name under its span.
  const std::vector<int> plan_cuts = cuts();
  for (size_t i = 0; i < plan_cuts.size(); ++i) {
    p.fillRect(QRect(drawnCutX(i) - 2, area.top() - 3, 4, area.height() + 6), QColor(30, 30, 30));
  }
  // Proposed cuts (before a run): dashed, with a grip when they can be dragged.
  const bool proposing = !proposed_.empty() && proposed_ != plan_cuts;
  if (proposing || (cuts_editable_ && !editableCuts().empty())) {
    for (int cut : editableCuts()) {
      const int x = boundaryX(cut);
      if (proposing) {
        p.setPen(QPen(QColor(30, 30, 30), 2, Qt::DashLine));
        p.drawLine(x, area.top() - 3, x, area.bottom() + 3);
      }
      if (cuts_editable_) {
        const QRect grip(x - 4, area.center().y() - 9, 9, 18);
        p.setPen(QPen(QColor(30, 30, 30), 1));
        p.setBrush(drag_ >= 0 ? QColor(255, 255, 255) : QColor(245, 245, 245));
        p.drawRect(grip);
        p.drawLine(grip.center().x(), grip.top() + 4, grip.center().x(), grip.bottom() - 4);
      }
    }
  }
  const bool assigned = std::any_of(owner_.begin(), owner_.end(), [](int d) { return d >= 0; });
  auto label = [&](int first, int last, const QString& text, const QColor& colour) {
    const QRect span(QPoint(layerRect(first).left(), area.bottom() + 2),
                     QPoint(layerRect(last).right(), area.bottom() + kLabelHeight));
    p.setPen(colour);
    p.drawText(span, Qt::AlignCenter, fm.elidedText(text, Qt::ElideRight, span.width()));
  };
  if (!assigned && !replicas_.empty()) {
    QStringList names;
    for (int d : replicas_) {
      QString name = static_cast<size_t>(d) < device_names_.size() ? device_names_[d] : QString();
      names << (name.isEmpty() ? QStringLiteral("device %1").arg(d) : name);
    }
    label(
        0, layerCount() - 1,
        tr("the whole model on each of %1 devices: %2").arg(replicas_.size()).arg(names.join(", ")),
        palette().color(QPalette::WindowText));
    return;
  }
  if (!assigned && !proposed_.empty() && !proposal_note_.isEmpty()) {
    label(0, layerCount() - 1, proposal_note_, palette().color(QPalette::WindowText));
    return;
  }
  if (!assigned && !proposed_.empty()) {
    for (size_t s = 0; s <= proposed_.size(); ++s) {
      const int first = s == 0 ? 0 : proposed_[s - 1];
      const int last = s < proposed_.size() ? proposed_[s] : layerCount();
      if (first < last && last <= layerCount()) {
        label(first, last - 1, tr("stage %1").arg(s), deviceColor(static_cast<int>(s)).darker(150));
      }
    }
    return;
  }
  int start = 0;
  int stage = 0;
  for (int l = 1; l <= layerCount(); ++l) {
    if (l < layerCount() && owner_[static_cast<size_t>(l)] == owner_[static_cast<size_t>(start)]) {
      continue;
    }
    const int d = owner_[static_cast<size_t>(start)];
    if (d >= 0) {
      QString name = deviceName(d);
      if (static_cast<size_t>(d) < device_lost_.size() && device_lost_[d]) name += tr(" (lost)");
      // Replicas of this stage (respipe): named after the owner, a band in the nearest holder's
      // colour along the top of the stage's layers.
      const std::vector<int> holders = replicaHoldersOf(stage);
      if (!holders.empty()) {
        QStringList names;
        for (int h : holders) names << deviceName(h);
        name += tr(" · replica on %1").arg(names.join(", "));
        const QRect band(QPoint(layerRect(start).left() + 1, area.top() + 1),
                         QPoint(layerRect(l - 1).right() - 1, area.top() + 4));
        p.fillRect(band, deviceColor(holders.front()).darker(110));
      } else if (const QString replica = successorReplicaText(stage); !replica.isEmpty()) {
        // ftpipehd: where its replica lives (the next stage, the last one's the controller), in
        // that holder's colour along the top, grey for the controller; its age in the label.
        name += QStringLiteral(" · ") + replica;
        const bool on_next =
            neighbour_at_ >= 0 && static_cast<size_t>(stage) + 1 < plan_devices_.size();
        const QRect band(QPoint(layerRect(start).left() + 1, area.top() + 1),
                         QPoint(layerRect(l - 1).right() - 1, area.top() + 4));
        p.fillRect(band,
                   on_next ? deviceColor(plan_devices_[static_cast<size_t>(stage) + 1]).darker(110)
                           : QColor(90, 90, 90));
      }
      label(start, l - 1, name, deviceColor(d).darker(150));
    }
    start = l;
    ++stage;
  }
}

std::vector<int> PartitionStrip::editableCuts() const {
  return proposed_.empty() ? cuts() : proposed_;
}

int PartitionStrip::stageOfLayer(int layer, const std::vector<int>& cuts) const {
  return static_cast<int>(std::upper_bound(cuts.begin(), cuts.end(), layer) - cuts.begin());
}

int PartitionStrip::handleAt(const QPoint& pos) const {
  if (!cuts_editable_ || layers_.empty()) return -1;
  const QRect area = stripArea().adjusted(0, -4, 0, 4);
  if (pos.y() < area.top() || pos.y() > area.bottom()) return -1;
  const std::vector<int> current = editableCuts();
  int best = -1, best_dist = kHandleReach + 1;
  for (size_t i = 0; i < current.size(); ++i) {
    const int dist = std::abs(pos.x() - boundaryX(current[i]));
    if (dist < best_dist) {
      best = static_cast<int>(i);
      best_dist = dist;
    }
  }
  return best;
}

void PartitionStrip::mousePressEvent(QMouseEvent* e) {
  const int h = e->button() == Qt::LeftButton ? handleAt(e->position().toPoint()) : -1;
  if (h < 0) {
    QWidget::mousePressEvent(e);
    return;
  }
  drag_start_ = editableCuts();
  proposed_ = drag_start_;
  drag_ = h;
  e->accept();
  update();
}

void PartitionStrip::mouseMoveEvent(QMouseEvent* e) {
  const QPoint pos = e->position().toPoint();
  if (drag_ < 0) {
    if (cuts_editable_) {
      if (handleAt(pos) >= 0) {
        setCursor(Qt::SplitHCursor);
      } else {
        unsetCursor();
      }
    }
    QWidget::mouseMoveEvent(e);
    return;
  }
  // The nearest boundary that leaves every stage at least one layer.
  const size_t i = static_cast<size_t>(drag_);
  const int lo = i == 0 ? 1 : proposed_[i - 1] + 1;
  const int hi = i + 1 < proposed_.size() ? proposed_[i + 1] - 1 : layerCount() - 1;
  int best = proposed_[i];
  int best_dist = std::abs(pos.x() - boundaryX(best));
  for (int b = lo; b <= hi; ++b) {
    const int dist = std::abs(pos.x() - boundaryX(b));
    if (dist < best_dist) {
      best = b;
      best_dist = dist;
    }
  }
  if (best != proposed_[i]) {
    proposed_[i] = best;
    update();
  }
  e->accept();
}

void PartitionStrip::mouseReleaseEvent(QMouseEvent* e) {
  if (drag_ < 0 || e->button() != Qt::LeftButton) {
    QWidget::mouseReleaseEvent(e);
    return;
  }
  drag_ = -1;
  update();
  e->accept();
  if (proposed_ != drag_start_) emit cutsEdited(proposed_);
}

bool PartitionStrip::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    const int l = layerAt(help->pos());
    if (const int h = handleAt(help->pos()); h >= 0) {
      QToolTip::showText(help->globalPos(),
                         tr("Drag to move the cut between stage %1 and stage %2").arg(h).arg(h + 1),
                         this);
    } else if (l >= 0) {
      QToolTip::showText(help->globalPos(), layerToolTip(l), this, layerRect(l));
    } else {
      QToolTip::hideText();
      e->ignore();
    }
    return true;
  }
  return QWidget::event(e);
}

}  // namespace edgerig::ui
