import Dispatch
import Foundation
import NN
import Optim

/// One epoch of training with a progress bar; returns the mean loss and accuracy.
@discardableResult
public func trainEpoch(
  _ model: Module, _ data: Dataset, optimizer: Optimizer, batchSize: Int, epoch: Int, epochs: Int
) -> (loss: Double, accuracy: Double) {
  model.train()
  let start = DispatchTime.now().uptimeNanoseconds
  var lossSum = 0.0
  var correct = 0
  var seen = 0
  let batches = data.batches(of: batchSize, shuffle: true)
  for (i, batch) in batches.enumerated() {
    optimizer.zeroGrad()
    let logits = model(batch.images)
    let loss = crossEntropy(logits, batch.labels)
    loss.backward()
    optimizer.step()
    let n = batch.labels.shape[0]
    lossSum += loss.item() * Double(n)
    correct += Int(logits.argmax(dim: 1).eq(batch.labels).sum().item())
    seen += n
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    printProgress(
      "epoch \(String(format: "%2d", epoch))/\(epochs)", done: i + 1, total: batches.count,
      detail: String(format: "loss %.4f  acc %5.1f%%  %6.0f samples/s", lossSum / Double(seen), 100 * Double(correct) / Double(seen), Double(seen) / max(seconds, 1e-9)))
  }
  print("")
  return (lossSum / Double(seen), Double(correct) / Double(seen))
}

/// The fraction of `data` the model classifies correctly (evaluation mode, no graph).
public func accuracy(_ model: Module, _ data: Dataset, batchSize: Int = 256) -> Double {
  model.eval()
  defer { model.train() }
  var correct = 0
  withNoGrad {
    for batch in data.batches(of: batchSize, shuffle: false) {
      correct += Int(model(batch.images).argmax(dim: 1).eq(batch.labels).sum().item())
    }
  }
  return Double(correct) / Double(data.count)
}

/// Redraws a one-line progress bar: `label [#####.....] done/total detail`.
public func printProgress(_ label: String, done: Int, total: Int, detail: String) {
  let width = 24
  let filled = total == 0 ? width : width * done / total
  let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
  print("\r\(label) [\(bar)] \(String(format: "%3d", done))/\(total)  \(detail)", terminator: "")
  fflush(nil)  // all streams: stdout is a C global that Swift 6 will not touch directly
}
