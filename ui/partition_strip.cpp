#include "ui/partition_strip.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "ui/format.h"
#include "ui/palette.h"

namespace edgerig::ui {
namespace {
constexpr int kMargin = 6;
constexpr int kLabelHeight = 18;  // device names under the strip
}  // namespace

PartitionStrip::PartitionStrip(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void PartitionStrip::setLayers(std::vector<LayerInfo> layers) {
  layers_ = std::move(layers);
  owner_.assign(layers_.size(), -1);
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
  owner_.assign(layers_.size(), -1);
  device_names_.clear();
  device_lost_.clear();
  update();
}

QRect PartitionStrip::stripArea() const {
  return QRect(kMargin, kMargin, width() - 2 * kMargin, height() - 2 * kMargin - kLabelHeight);
}

QRect PartitionStrip::layerRect(int layer) const {
  if (layer < 0 || layer >= layerCount()) return {};
  // Width by parameters (square root, so a 1M-parameter layer does not squeeze a pooling
  // layer to nothing), with a floor that keeps every layer hoverable.
  std::vector<double> w(layers_.size());
  double total = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    w[i] = std::sqrt(static_cast<double>(std::max<int64_t>(0, layers_[i].parameters)));
    total += w[i];
  }
  const double floor = std::max(1.0, total * 0.04);
  total = 0;
  for (auto& x : w) total += (x = std::max(x, floor));
  const QRect area = stripArea();
  double x = area.left();
  for (int i = 0; i < layer; ++i) x += w[static_cast<size_t>(i)] / total * area.width();
  const double right = x + w[static_cast<size_t>(layer)] / total * area.width();
  return QRect(QPoint(static_cast<int>(std::lround(x)), area.top()),
               QPoint(static_cast<int>(std::lround(right)) - 1, area.bottom()));
}

int PartitionStrip::layerAt(const QPoint& pos) const {
  for (int l = 0; l < layerCount(); ++l) {
    if (layerRect(l).contains(pos)) return l;
  }
  return -1;
}

QColor PartitionStrip::layerColor(int layer) const {
  const int d = deviceOf(layer);
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
  return QStringLiteral(
             "<b>%1</b> (layer %2)<br>%3<br>output %4<br>%5 parameters<br>"
             "activation %6 per sample<br>on %7")
      .arg(QString::fromStdString(l.name))
      .arg(layer)
      .arg(QString::fromStdString(l.description).toHtmlEscaped())
      .arg(shape.join(QStringLiteral("×")))
      .arg(l.parameters)
      .arg(formatBytes(static_cast<double>(l.activation_bytes)))
      .arg(device);
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
  for (int cut : cuts()) {
    const int x = layerRect(cut).left();
    p.fillRect(QRect(x - 2, area.top() - 3, 4, area.height() + 6), QColor(30, 30, 30));
  }
  int start = 0;
  for (int l = 1; l <= layerCount(); ++l) {
    if (l < layerCount() && owner_[static_cast<size_t>(l)] == owner_[static_cast<size_t>(start)]) {
      continue;
    }
    const int d = owner_[static_cast<size_t>(start)];
    if (d >= 0) {
      const QRect span(QPoint(layerRect(start).left(), area.bottom() + 2),
                       QPoint(layerRect(l - 1).right(), area.bottom() + kLabelHeight));
      QString name = static_cast<size_t>(d) < device_names_.size() ? device_names_[d] : QString();
      if (name.isEmpty()) name = QStringLiteral("device %1").arg(d);
      if (static_cast<size_t>(d) < device_lost_.size() && device_lost_[d]) name += tr(" (lost)");
      p.setPen(deviceColor(d).darker(150));
      p.drawText(span, Qt::AlignCenter, fm.elidedText(name, Qt::ElideRight, span.width()));
    }
    start = l;
  }
}

bool PartitionStrip::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    const int l = layerAt(help->pos());
    if (l >= 0) {
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
