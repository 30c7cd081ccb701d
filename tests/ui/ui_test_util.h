// Helpers shared by the control room's tests: finding a panel's widget by objectName, and the
// small real experiment the end-to-end tests run on two local agents.
#pragma once

#include <QObject>
#include <QtGlobal>
#include <algorithm>
#include <string>
#include <vector>

#include "core/controller/experiment.h"

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
  c.micro_batches = 2;
  c.max_iterations = 100000;  // ended by stop()
  c.epochs = 0;
  c.eval_every = 0;
  return c;
}

}  // namespace edgerig::ui::test
