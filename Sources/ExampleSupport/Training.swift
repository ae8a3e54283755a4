import Data
import Dispatch
import Foundation
import NN
import Optim

/// Batches of images and labels, as the examples load them.
public typealias ImageLoader = DataLoader<ImageDataset, (Tensor, Tensor)>

/// One epoch of training over `loader`'s batches with a progress line; returns the mean
/// loss and accuracy.
@discardableResult
public func trainEpoch(_ model: Module, _ loader: ImageLoader, optimizer: Optimizer, epoch: Int, epochs: Int) -> (
  loss: Double, accuracy: Double
) {
  model.train()
  let start = DispatchTime.now().uptimeNanoseconds
  var lossSum = 0.0
  var correct = 0
  var seen = 0
  var done = 0
  for (images, labels) in loader {
    optimizer.zeroGrad()
    let logits = model(images)
    let loss = crossEntropy(logits, labels)
    loss.backward()
    optimizer.step()
    let n = labels.shape[0]
    lossSum += loss.item() * Double(n)
    correct += Int(logits.argmax(dim: 1).eq(labels).sum().item())
    seen += n
    done += 1
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    printProgress(
      "epoch \(String(format: "%2d", epoch))/\(epochs)", done: done, total: loader.count, linesPerRun: 1,
      detail: String(
        format: "loss %.4f  acc %5.1f%%  %6.0f samples/s", lossSum / Double(seen), 100 * Double(correct) / Double(seen),
        Double(seen) / max(seconds, 1e-9)))
  }
  endProgress()
  return (lossSum / Double(seen), Double(correct) / Double(seen))
}

/// The fraction of `data` the model classifies correctly (evaluation mode, no graph).
public func accuracy(_ model: Module, _ data: ImageDataset, batchSize: Int = 256) -> Double {
  model.eval()
  defer { model.train() }
  var correct = 0
  withNoGrad {
    for start in stride(from: 0, to: data.count, by: batchSize) {
      let n = min(batchSize, data.count - start)
      let images = data.images.narrow(dim: 0, start: start, length: n)
      correct += Int(model(images).argmax(dim: 1).eq(data.labels.narrow(dim: 0, start: start, length: n)).sum().item())
    }
  }
  return Double(correct) / Double(data.count)
}

/// Whether standard output is a terminal (progress redraws one line) or a file or pipe
/// (progress prints whole lines, a few per run). Under `mpirun`, whose ranks write to a
/// pseudo-terminal whatever mpirun itself writes to, whole lines too.
public let standardOutputIsTerminal =
  // mpirun gives ranks a pty.
  isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] == nil

/// Shows progress `label [#####.....] done/total detail`: on a terminal by redrawing one
/// line; otherwise (a log file, CI) as a whole line `linesPerRun` times over the run
/// (each epoch's end, for `linesPerRun: 1`), so logs do not fill with carriage returns.
public func printProgress(_ label: String, done: Int, total: Int, linesPerRun: Int = 10, detail: String) {
  let width = 24
  let filled = total == 0 ? width : width * done / total
  let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
  let line = "\(label) [\(bar)] \(String(format: "%3d", done))/\(total)  \(detail)"
  if standardOutputIsTerminal {
    print("\r" + line, terminator: "")
  } else if done == total || done % max(1, total / max(linesPerRun, 1)) == 0 {
    print(line)
  }
  fflush(nil)  // all streams: stdout is a C global that Swift 6 will not touch directly
}

/// Ends a progress line on a terminal (elsewhere each progress line is already whole).
public func endProgress() {
  if standardOutputIsTerminal { print("") }
}
