#include "ui/shard_histogram.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <map>
#include <numeric>

#include "ui/format.h"
#include "ui/palette.h"

namespace edgerig::ui {
namespace {

constexpr int kRowHeight = 34;
constexpr int kNameWidth = 150;
constexpr int kMargin = 6;
constexpr int kBarGap = 2;

// Classes get a colour of their own, apart from the devices' (which label the rows).
QColor classColor(int label) { return QColor::fromHsv((label * 36 + 200) % 360, 150, 200); }

}  // namespace

ShardHistogram::ShardHistogram(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setToolTip(tr("Training samples per class in each device's shard (decentralized runs)"));
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void ShardHistogram::setDevices(const std::vector<DeviceStatus>& devices) {
  for (const auto& d : devices) {
    if (d.index < 0) continue;
    if (static_cast<size_t>(d.index) >= names_.size())
      names_.resize(static_cast<size_t>(d.index) + 1);
    names_[static_cast<size_t>(d.index)] = QString::fromStdString(d.name);
  }
  for (auto& r : rows_) {
    if (r.device >= 0 && static_cast<size_t>(r.device) < names_.size() &&
        !names_[static_cast<size_t>(r.device)].isEmpty()) {
      r.name = names_[static_cast<size_t>(r.device)];
    }
  }
  update();
}

void ShardHistogram::setShards(const std::vector<ShardInfo>& shards) {
  rows_.clear();
  for (const auto& s : shards) {
    Row r;
    r.device = s.device;
    r.name = static_cast<size_t>(s.device) < names_.size() && !names_[s.device].isEmpty()
                 ? names_[s.device]
                 : tr("device %1").arg(s.device);
    r.counts = s.class_counts;
    rows_.push_back(std::move(r));
  }
  std::sort(rows_.begin(), rows_.end(),
            [](const Row& a, const Row& b) { return a.device < b.device; });
  updateGeometry();
  update();
}

void ShardHistogram::setShardRecords(const std::vector<ShardRecord>& records) {
  rows_.clear();
  std::map<std::string, size_t> at;
  for (const auto& rec : records) {
    auto [it, fresh] = at.emplace(rec.device, rows_.size());
    if (fresh) rows_.push_back(Row{-1, QString::fromStdString(rec.device), {}});
    Row& r = rows_[it->second];
    if (rec.label >= 0) {
      if (static_cast<size_t>(rec.label) >= r.counts.size()) r.counts.resize(rec.label + 1, 0);
      r.counts[static_cast<size_t>(rec.label)] = rec.count;  // the last record of a class wins
    }
  }
  updateGeometry();
  update();
}

void ShardHistogram::clear() {
  rows_.clear();
  updateGeometry();
  update();
}

QString ShardHistogram::rowName(int row) const { return rows_.at(static_cast<size_t>(row)).name; }

std::vector<int64_t> ShardHistogram::rowCounts(int row) const {
  return rows_.at(static_cast<size_t>(row)).counts;
}

double ShardHistogram::topClassShare(int row) const {
  const auto& c = rows_.at(static_cast<size_t>(row)).counts;
  const int64_t total = std::accumulate(c.begin(), c.end(), int64_t{0});
  if (total <= 0) return 0;
  return static_cast<double>(*std::max_element(c.begin(), c.end())) / static_cast<double>(total);
}

int64_t ShardHistogram::maxCount() const {
  int64_t m = 1;
  for (const auto& r : rows_) {
    for (int64_t c : r.counts) m = std::max(m, c);
  }
  return m;
}

QRect ShardHistogram::rowArea(int row) const {
  return QRect(kMargin + kNameWidth, kMargin + row * kRowHeight,
               std::max(40, width() - 2 * kMargin - kNameWidth), kRowHeight - 6);
}

QRect ShardHistogram::barRect(int row, int label) const {
  const Row& r = rows_.at(static_cast<size_t>(row));
  const int classes = std::max<int>(1, static_cast<int>(r.counts.size()));
  const QRect area = rowArea(row);
  const int w = std::max(2, (area.width() - (classes - 1) * kBarGap) / classes);
  const int64_t count = label < static_cast<int>(r.counts.size()) ? r.counts[label] : 0;
  const int h =
      static_cast<int>(std::lround(static_cast<double>(area.height()) * static_cast<double>(count) /
                                   static_cast<double>(maxCount())));
  return QRect(area.left() + label * (w + kBarGap), area.bottom() - h + 1, w, h);
}

void ShardHistogram::paintEvent(QPaintEvent*) {
  QPainter p(this);
  if (rows_.empty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
               tr("No shards: a decentralized run (allreduce, gossip, ...) shows here how its "
                  "training set is split over the devices"));
    return;
  }
  const QFontMetrics fm(font());
  for (int row = 0; row < rowCount(); ++row) {
    const Row& r = rows_[static_cast<size_t>(row)];
    const int64_t total = std::accumulate(r.counts.begin(), r.counts.end(), int64_t{0});
    const QRect label(kMargin, kMargin + row * kRowHeight, kNameWidth - 6, kRowHeight - 6);
    p.setPen(r.device >= 0 ? deviceColor(r.device).darker(130)
                           : palette().color(QPalette::WindowText));
    p.drawText(label, Qt::AlignLeft | Qt::AlignTop,
               fm.elidedText(r.name, Qt::ElideRight, label.width()));
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(label, Qt::AlignLeft | Qt::AlignBottom,
               tr("%1 samples, top %2 %")
                   .arg(formatCount(static_cast<double>(total)))
                   .arg(std::lround(100 * topClassShare(row))));
    p.setPen(palette().color(QPalette::Mid));
    p.drawLine(rowArea(row).bottomLeft(), rowArea(row).bottomRight());
    for (int c = 0; c < static_cast<int>(r.counts.size()); ++c)
      p.fillRect(barRect(row, c), classColor(c));
  }
}

bool ShardHistogram::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    for (int row = 0; row < rowCount(); ++row) {
      const QRect area = rowArea(row);
      if (!area.adjusted(0, 0, 0, 6).contains(help->pos())) continue;
      const Row& r = rows_[static_cast<size_t>(row)];
      for (int c = 0; c < static_cast<int>(r.counts.size()); ++c) {
        const QRect bar = barRect(row, c);
        if (help->pos().x() >= bar.left() && help->pos().x() <= bar.right()) {
          QToolTip::showText(help->globalPos(),
                             tr("%1: class %2, %3 samples").arg(r.name).arg(c).arg(r.counts[c]),
                             this);
          return true;
        }
      }
    }
  }
  return QWidget::event(e);
}

QSize ShardHistogram::sizeHint() const {
  return QSize(420, 2 * kMargin + std::max(2, rowCount()) * kRowHeight);
}

QSize ShardHistogram::minimumSizeHint() const { return QSize(260, 2 * kMargin + kRowHeight); }

}  // namespace edgerig::ui
