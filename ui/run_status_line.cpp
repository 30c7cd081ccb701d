#include "ui/run_status_line.h"

#include <QHBoxLayout>
#include <QLabel>

#include "ui/format.h"

namespace edgerig::ui {

RunStatusLine::RunStatusLine(QWidget* parent) : QWidget(parent) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(4, 0, 4, 0);
  layout->setSpacing(18);
  auto label = [this, layout](const char* name) {
    auto* l = new QLabel(this);
    l->setObjectName(name);
    layout->addWidget(l);
    return l;
  };
  state_ = label("statusState");
  state_->setMinimumWidth(90);
  state_->setAlignment(Qt::AlignCenter);
  algorithm_ = label("statusAlgorithm");
  elapsed_ = label("statusElapsed");
  iteration_ = label("statusIteration");
  epoch_ = label("statusEpoch");
  accuracy_ = label("statusAccuracy");
  bytes_ = label("statusBytes");
  reset();
}

void RunStatusLine::setState(const QString& state, const QColor& colour) {
  state_->setText(state);
  state_->setStyleSheet(QStringLiteral("QLabel { background: %1; color: white; padding: 1px 8px;"
                                       " border-radius: 3px; font-weight: bold; }")
                            .arg(colour.name()));
}

void RunStatusLine::setProgress(const RunProgress& p) {
  algorithm_->setText(p.algorithm.empty() ? tr("—") : QString::fromStdString(p.algorithm));
  elapsed_->setText(tr("Elapsed %1").arg(formatDuration(p.elapsed_s)));
  iteration_->setText(tr("Iteration %1 / %2").arg(p.iteration).arg(p.total_iterations));
  epoch_->setText(tr("Epoch %1").arg(p.epoch, 0, 'f', 2));
  accuracy_->setText(p.test_accuracy < 0
                         ? tr("Test accuracy —")
                         : tr("Test accuracy %1 %").arg(p.test_accuracy * 100, 0, 'f', 1));
}

void RunStatusLine::setDevices(const std::vector<DeviceStatus>& devices) {
  double total = 0;
  for (const auto& d : devices) total += static_cast<double>(d.bytes_sent);
  bytes_->setText(tr("Sent %1").arg(formatBytes(total)));
}

void RunStatusLine::reset() {
  setState(tr("idle"), QColor(120, 120, 120));
  setProgress(RunProgress{});
  bytes_->setText(tr("Sent —"));
}

QString RunStatusLine::text() const {
  return QStringList{state_->text(), algorithm_->text(), elapsed_->text(), iteration_->text(),
                     epoch_->text(), accuracy_->text(),  bytes_->text()}
      .join(QStringLiteral(" | "));
}

}  // namespace edgerig::ui
