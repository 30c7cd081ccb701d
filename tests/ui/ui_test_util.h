// Helpers shared by the control room's tests: finding a panel's widget by objectName, and the
// small real experiment the end-to-end tests run on two local agents.
#pragma once

#include <QObject>
#include <QtGlobal>
#include <algorithm>
#include <string>
#include <vector>

#include "core/experiment/experiment.h"
#include "ui/device_table_model.h"

namespace edgerig::ui::test {

// The child a test clicks or reads; a missing one ends the test run, naming it.
template <typename T>
T* child(QObject& w, const char* name) {
  auto* c = w.findChild<T*>(name);
  if (!c) qFatal("no child %s", name);
  return c;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The samples/s of one device as the device table shows it, each time its row changes; those
// after markFault() are kept apart, so a test compares before and after a fault.
struct RateWatch {
  std::vector<double> before, after;
  bool faulted = false;

  void watch(DeviceTableModel& devices, int row, QObject* context) {
    QObject::connect(&devices, &QAbstractItemModel::dataChanged, context,
                     [this, &devices, row](const QModelIndex& top, const QModelIndex& bottom) {
                       if (devices.rowCount() <= row || top.row() > row || bottom.row() < row) {
                         return;
                       }
                       const double r =
                           devices
                               .data(devices.index(row, DeviceTableModel::kSamplesPerS),
                                     DeviceTableModel::kRawRole)
                               .toDouble();
                       if (r > 0) (faulted ? after : before).push_back(r);
                     });
  }
  void markFault() { faulted = true; }
  double baseline() const { return median(before); }
  // The median of the last three reports after the fault (reports straddling it are mixed).
  double recent() const {
    return after.size() < 3 ? 0 : median(std::vector<double>(after.end() - 3, after.end()));
  }
};

// Two local agents training the mlp on synthetic data until stopped.
inline ExperimentConfig twoAgents(const std::string& name) {
  ExperimentConfig c;
  c.name = name;
  c.seed = 7;
  c.local_count = 2;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 4096;
  c.batch_size = 64;
  c.algorithm.params.set("microBatches", int64_t{2});
  c.max_iterations = 100000;  // ended by stop()
  c.epochs = 0;
  c.eval_every = 0;
  return c;
}

}  // namespace edgerig::ui::test
