// The status bar's run summary: state, the algorithm running, elapsed time, iteration, epoch, test
// accuracy and the bytes the devices have sent in total.
#pragma once

#include <QWidget>
#include <vector>

#include "ui/ui_types.h"

class QLabel;

namespace edgerig::ui {

class RunStatusLine : public QWidget {
  Q_OBJECT

 public:
  explicit RunStatusLine(QWidget* parent = nullptr);

  void setState(const QString& state, const QColor& colour);
  void setProgress(const RunProgress& p);
  void setDevices(const std::vector<DeviceStatus>& devices);
  void reset();

  QString text() const;  // every field, as shown (for tests and the window title)

 private:
  QLabel* state_ = nullptr;
  QLabel* algorithm_ = nullptr;
  QLabel* elapsed_ = nullptr;
  QLabel* iteration_ = nullptr;
  QLabel* epoch_ = nullptr;
  QLabel* accuracy_ = nullptr;
  QLabel* bytes_ = nullptr;
};

}  // namespace edgerig::ui
