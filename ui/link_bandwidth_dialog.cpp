#include "ui/link_bandwidth_dialog.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "ui/palette.h"

namespace edgerig::ui {
namespace {

QString rateText(double bytes_per_s) {
  if (bytes_per_s <= 0) return QStringLiteral("?");
  const double mbit = bytes_per_s * 8 / 1e6;
  if (mbit >= 1000) return QStringLiteral("%1 Gbit/s").arg(mbit / 1000, 0, 'f', 1);
  return QStringLiteral("%1 Mbit/s").arg(mbit, 0, 'f', mbit >= 100 ? 0 : 1);
}

// Red (slowest of the matrix) through yellow to green (fastest), on log(bytes/s): a 50 Mbit/s
// link beside 10 Gbit/s loopback links is as red as it is slow.
QColor heat(double v, double lo, double hi) {
  if (v <= 0) return QColor(224, 224, 224);
  const double t =
      hi > lo ? std::clamp((std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo)), 0.0, 1.0)
              : 1.0;
  return QColor::fromHsvF(static_cast<float>(t / 3), 0.65f, 0.92f);  // hue 0 (red) .. 1/3 (green)
}

}  // namespace

LinkBandwidthDialog::LinkBandwidthDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Link bandwidth"));
  caption_ = new QLabel(tr("No probe yet: links are measured when a run starts."), this);
  caption_->setWordWrap(true);
  table_ = new QTableWidget(this);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->verticalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  auto* hint = new QLabel(tr("Rows send, columns receive. Measured by a short timed burst over "
                             "each agent-to-agent data link (emulated faults and real limits "
                             "alike); ? = not measured."),
                          this);
  hint->setWordWrap(true);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(caption_);
  layout->addWidget(table_, 1);
  layout->addWidget(hint);
  resize(620, 420);
}

void LinkBandwidthDialog::clear() {
  table_->clear();
  table_->setRowCount(0);
  table_->setColumnCount(0);
  caption_->setText(tr("No probe yet: links are measured when a run starts."));
}

void LinkBandwidthDialog::setBandwidth(const LinkBandwidthInfo& info) {
  const int n = static_cast<int>(info.devices.size());
  table_->clear();
  table_->setRowCount(n);
  table_->setColumnCount(n);
  QStringList names;
  for (const auto& d : info.devices) names << QString::fromStdString(d);
  table_->setHorizontalHeaderLabels(names);
  table_->setVerticalHeaderLabels(names);
  double lo = 0, hi = 0;
  for (const auto& row : info.bytes_per_s) {
    for (double v : row) {
      if (v <= 0) continue;
      lo = lo > 0 ? std::min(lo, v) : v;
      hi = std::max(hi, v);
    }
  }
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) {
      const double v = a < static_cast<int>(info.bytes_per_s.size()) &&
                               b < static_cast<int>(info.bytes_per_s[a].size())
                           ? info.bytes_per_s[a][b]
                           : 0;
      auto* item = new QTableWidgetItem(a == b ? QStringLiteral("—") : rateText(v));
      item->setTextAlignment(Qt::AlignCenter);
      const QColor bg = a == b ? QColor(245, 245, 245) : heat(v, lo, hi);
      item->setBackground(bg);
      item->setForeground(textColorOn(bg));
      if (a != b) {
        item->setToolTip(
            tr("%1 → %2: %3 (%4 bytes/s)").arg(names[a], names[b], rateText(v)).arg(v, 0, 'f', 0));
      }
      table_->setItem(a, b, item);
    }
  }
  caption_->setText(tr("Probe at %1 s, iteration %2 (%3); slowest %4, fastest %5.")
                        .arg(info.time_s, 0, 'f', 1)
                        .arg(info.iteration)
                        .arg(QString::fromStdString(info.why.empty() ? "replay" : info.why))
                        .arg(rateText(lo), rateText(hi)));
}

LinkBandwidthInfo LinkBandwidthDialog::lastProbe(const std::vector<LinkBandwidthRecord>& records) {
  LinkBandwidthInfo info;
  if (records.empty()) return info;
  const double t = records.back().time_s;
  auto index = [&](const std::string& name) {
    auto it = std::find(info.devices.begin(), info.devices.end(), name);
    if (it != info.devices.end()) return static_cast<size_t>(it - info.devices.begin());
    info.devices.push_back(name);
    return info.devices.size() - 1;
  };
  for (const auto& r : records) index(r.from), index(r.to);
  const size_t n = info.devices.size();
  info.bytes_per_s.assign(n, std::vector<double>(n, 0.0));
  for (const auto& r : records) {
    if (r.time_s != t) continue;
    info.bytes_per_s[index(r.from)][index(r.to)] = r.bytes_per_s;
    info.iteration = r.iteration;
  }
  info.time_s = t;
  return info;
}

QString LinkBandwidthDialog::cellText(int from, int to) const {
  auto* item = table_->item(from, to);
  return item ? item->text() : QString();
}

QColor LinkBandwidthDialog::cellColor(int from, int to) const {
  auto* item = table_->item(from, to);
  return item ? item->background().color() : QColor();
}

int LinkBandwidthDialog::deviceCount() const { return table_->rowCount(); }

}  // namespace edgerig::ui
