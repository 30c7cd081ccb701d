#include "ui/palette.h"

#include <array>

namespace edgerig::ui {

QColor deviceColor(int device) {
  // Okabe–Ito (colour-blind safe), then darker variants for larger testbeds.
  static const std::array<QColor, 8> kBase{
      QColor(0, 114, 178),  QColor(230, 159, 0), QColor(0, 158, 115),  QColor(204, 121, 167),
      QColor(86, 180, 233), QColor(213, 94, 0),  QColor(240, 228, 66), QColor(120, 120, 120)};
  if (device < 0) return QColor(160, 160, 160);
  const QColor base = kBase[static_cast<size_t>(device) % kBase.size()];
  const int round = device / static_cast<int>(kBase.size());
  return round == 0 ? base : base.darker(100 + 35 * round);
}

QColor runColor(int run) {
  // Okabe–Ito again, ordered so that the first runs are the most distinct and yellow (faint on
  // white) comes last; then darker variants.
  static const std::array<QColor, 8> kBase{
      QColor(0, 114, 178), QColor(213, 94, 0),   QColor(0, 158, 115), QColor(204, 121, 167),
      QColor(230, 159, 0), QColor(86, 180, 233), QColor(0, 0, 0),     QColor(190, 170, 30)};
  if (run < 0) return QColor(160, 160, 160);
  const QColor base = kBase[static_cast<size_t>(run) % kBase.size()];
  const int round = run / static_cast<int>(kBase.size());
  return round == 0 ? base : base.darker(100 + 35 * round);
}

QColor stateColor(DeviceState state) {
  switch (state) {
    case DeviceState::kConnecting:
      return QColor(150, 150, 150);
    case DeviceState::kReady:
      return QColor(66, 133, 244);
    case DeviceState::kTraining:
      return QColor(52, 168, 83);
    case DeviceState::kSlow:
      return QColor(245, 160, 0);
    case DeviceState::kFrozen:
      return QColor(142, 68, 173);
    case DeviceState::kLost:
      return QColor(211, 47, 47);
  }
  return QColor(150, 150, 150);
}

QColor textColorOn(const QColor& background) {
  const double luma =
      0.299 * background.redF() + 0.587 * background.greenF() + 0.114 * background.blueF();
  return luma > 0.6 ? QColor(Qt::black) : QColor(Qt::white);
}

}  // namespace edgerig::ui
