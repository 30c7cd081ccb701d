// "Compare runs…": pick two or more run folders to overlay, from the runs this window has made
// or from disk (a run folder, or a comparison folder edgerig-run compare wrote: all its runs).
#pragma once

#include <QDialog>
#include <QStringList>

class QDialogButtonBox;
class QListWidget;

namespace edgerig::ui {

class CompareDialog : public QDialog {
  Q_OBJECT

 public:
  // `made`: the run folders this window has made, newest last; `start_dir` for the file dialog.
  CompareDialog(const QStringList& made, const QString& start_dir, QWidget* parent = nullptr);

  // The ticked folders, in list order (the first is the baseline).
  QStringList chosen() const;
  // Adds folders to the list, ticked (what "Add folder…" does after its file dialog).
  void addFolders(const QStringList& dirs);

 private:
  void updateOk();

  QListWidget* list_ = nullptr;
  QDialogButtonBox* buttons_ = nullptr;
  QString start_dir_;
};

}  // namespace edgerig::ui
