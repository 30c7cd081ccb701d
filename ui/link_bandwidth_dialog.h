// The Link bandwidth dialog: the probe's measured matrix as a heat map, one coloured cell per
// ordered pair (rows send, columns receive), slow links red, fast ones green on a log scale, so a
// bottleneck reads at a glance. Fed live from a run, or from a replayed run folder's links.csv.
#pragma once

#include <QDialog>
#include <QString>
#include <vector>

#include "ui/ui_types.h"

class QLabel;
class QTableWidget;

namespace edgerig::ui {

class LinkBandwidthDialog : public QDialog {
  Q_OBJECT

 public:
  explicit LinkBandwidthDialog(QWidget* parent = nullptr);

  void setBandwidth(const LinkBandwidthInfo& info);
  void clear();

  // The last probe of a run folder (the rows of links.csv sharing its latest time); device order
  // is first appearance. Empty devices: the folder has no links.csv (or no rows).
  static LinkBandwidthInfo lastProbe(const std::vector<LinkBandwidthRecord>& records);

  // What a cell shows and its colour, for tests.
  QString cellText(int from, int to) const;
  QColor cellColor(int from, int to) const;
  int deviceCount() const;

 private:
  QLabel* caption_ = nullptr;
  QTableWidget* table_ = nullptr;
};

}  // namespace edgerig::ui
