#include "ui/run_export.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QTemporaryFile>
#include <filesystem>
#include <system_error>

#include "core/runlog/run_log.h"
#include "core/runlog/run_reader.h"

namespace edgerig::ui {
namespace {

std::string str(const QString& s) { return s.toStdString(); }

Status cannotWrite(const QString& out_path, const QString& why) {
  return unavailable("cannot write " + str(out_path) + ": " + str(why) +
                     "; choose a folder that exists and is writable");
}

// Copies metrics.csv in chunks (a long run's file is hundreds of MB) up to its last complete row.
Status exportLong(const QString& run_dir, const QString& out_path) {
  const QString in_path = QDir(run_dir).filePath(kMetricsFile);
  QFile in(in_path);
  if (!in.open(QIODevice::ReadOnly)) {
    return unavailable("cannot read " + str(in_path) + ": " + str(in.errorString()));
  }
  // Rows end with '\n' and each is written in one call: bytes after the last '\n' are a row
  // cut by a crash, which readRun drops as well.
  qint64 keep = in.size();
  while (keep > 0) {
    if (!in.seek(keep - 1)) break;
    char c = 0;
    if (in.read(&c, 1) != 1 || c == '\n') break;
    --keep;
  }
  if (!in.seek(0)) return unavailable("cannot read " + str(in_path) + ": " + str(in.errorString()));

  QSaveFile out(out_path);  // a temporary file, renamed over out_path on commit()
  if (!out.open(QIODevice::WriteOnly)) return cannotWrite(out_path, out.errorString());
  QByteArray chunk;
  for (qint64 left = keep; left > 0;) {
    chunk = in.read(std::min<qint64>(left, qint64{1} << 20));
    if (chunk.isEmpty()) {
      out.cancelWriting();
      return unavailable("cannot read " + str(in_path) + ": " + str(in.errorString()));
    }
    if (out.write(chunk) != chunk.size()) {
      const QString why = out.errorString();
      out.cancelWriting();
      return cannotWrite(out_path, why);
    }
    left -= chunk.size();
  }
  if (!out.commit()) return cannotWrite(out_path, out.errorString());
  return Status::ok();
}

Status exportWideAtomically(const QString& run_dir, const QString& out_path) {
  const QFileInfo target(out_path);
  if (!target.absoluteDir().exists()) return cannotWrite(out_path, "no such folder");
  // A unique sibling, so the rename stays on one file system (and so is atomic).
  QTemporaryFile tmp(target.absoluteDir().filePath(target.fileName() + ".XXXXXX.part"));
  if (!tmp.open()) return cannotWrite(out_path, tmp.errorString());
  tmp.close();
  const std::string tmp_path = str(tmp.fileName());
  if (Status st = exportWide(str(run_dir), tmp_path); !st) {
    std::string message = st.message();
    // Name the file the user chose, not the temporary one.
    for (size_t at; (at = message.find(tmp_path)) != std::string::npos;) {
      message.replace(at, tmp_path.size(), str(out_path));
    }
    return Status(st.code(), message);
  }
  std::error_code ec;
  std::filesystem::rename(tmp_path, str(out_path), ec);
  if (ec) return cannotWrite(out_path, QString::fromStdString(ec.message()));
  tmp.setAutoRemove(false);  // it is out_path now
  return Status::ok();
}

}  // namespace

Status checkRunFolder(const QString& dir) {
  const QFileInfo info(dir);
  if (!info.exists()) {
    return notFound(str(dir) + ": no such folder: choose a run folder (runs/<time>-<name>)");
  }
  if (!info.isDir()) {
    return invalidArgument(str(dir) + ": not a folder: choose a run folder (runs/<time>-<name>)");
  }
  if (!QFileInfo::exists(QDir(dir).filePath(kMetricsFile))) {
    return invalidArgument(str(dir) + ": not a run folder: no " + kMetricsFile);
  }
  return Status::ok();
}

Status exportRunCsv(const QString& run_dir, const QString& out_path, CsvLayout layout) {
  if (Status st = checkRunFolder(run_dir); !st) return st;
  if (out_path.isEmpty()) return invalidArgument("no output file given for the CSV export");
  return layout == CsvLayout::kLong ? exportLong(run_dir, out_path)
                                    : exportWideAtomically(run_dir, out_path);
}

QString defaultExportName(const QString& run_dir, CsvLayout layout) {
  QString name = QFileInfo(QDir::cleanPath(run_dir)).fileName();
  if (name.isEmpty()) name = QStringLiteral("run");
  return name +
         (layout == CsvLayout::kLong ? QStringLiteral("-long.csv") : QStringLiteral("-wide.csv"));
}

}  // namespace edgerig::ui
