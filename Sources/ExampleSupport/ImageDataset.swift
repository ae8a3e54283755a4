import Data
import Foundation
import NN

/// Images and integer labels in memory, a `Dataset` whose samples are `(image, label)`
/// with an optional transform (augmentation) applied to each image as it is read.
public struct ImageDataset: Dataset {
  /// `[N, ...]` float images.
  public var images: Tensor
  /// `[N]` int64 labels.
  public var labels: Tensor
  /// Applied to each image as it is read (`nil`: none).
  public var transform: (any ImageTransform)?

  /// A data set from images and labels.
  public init(images: Tensor, labels: Tensor, transform: (any ImageTransform)? = nil) {
    usageCheck(
      images.shape[0] == labels.shape[0], "ImageDataset: \(images.shape[0]) images but \(labels.shape[0]) labels")
    self.images = images
    self.labels = labels
    self.transform = transform
  }

  /// The number of examples.
  public var count: Int { labels.shape[0] }

  /// Image `index` (transformed) and its label.
  public func sample(at index: Int) throws -> (Tensor, Int) {
    guard index >= 0 && index < count else {
      throw DatasetError("ImageDataset: index \(index) out of range 0..<\(count)")
    }
    let image = images[index]
    return (transform.map { $0(image) } ?? image, Int(labels[index].item(Int64.self)))
  }

  /// The images with the transform applied once to each (drawn from `generator`), as a
  /// data set without a transform: a fixed augmented copy, such as a shifted test set.
  public func materialized(generator: Generator) -> ImageDataset {
    guard let transform else { return self }
    let out = Generator.withDefault(generator) { Tensor.stack((0..<count).map { transform(images[$0]) }) }
    return ImageDataset(images: out, labels: labels)
  }

  /// This data set with `transform` applied to each image read.
  public func transformed(_ transform: any ImageTransform) -> ImageDataset {
    ImageDataset(images: images, labels: labels, transform: transform)
  }

  /// The examples at `indices` (an int64 tensor).
  public func subset(_ indices: Tensor) -> ImageDataset {
    ImageDataset(
      images: images.indexSelect(dim: 0, index: indices), labels: labels.indexSelect(dim: 0, index: indices),
      transform: transform)
  }

  /// The examples whose label satisfies `keep`.
  public func filter(labels keep: (Int) -> Bool) -> ImageDataset {
    let picked = labels.toArray(Int.self).enumerated().filter { keep($0.element) }.map(\.offset)
    return subset(Tensor(picked.map { Int64($0) }, shape: [picked.count]))
  }

  /// A deterministic split: the first `fraction` of a seeded shuffle, and the rest.
  public func split(trainFraction fraction: Double, seed: UInt64) -> (train: ImageDataset, test: ImageDataset) {
    Tensor.manualSeed(seed)
    let order = Tensor.randint(0, Int(Int32.max), [count]).argsortAscending()
    let trainCount = Int(Double(count) * fraction)
    return (
      subset(order.narrow(dim: 0, start: 0, length: trainCount)),
      subset(order.narrow(dim: 0, start: trainCount, length: count - trainCount))
    )
  }

  /// The UCI digits shipped in `Data/digits.npz`: `[1797, 1, 8, 8]` images scaled to [0, 1].
  public static func digits(path: String? = nil) throws -> ImageDataset {
    let url = try locatePackageFile(path ?? "Data/digits.npz")
    let arrays = try Tensor.load(npz: url)
    guard let images = arrays["images"], let labels = arrays["labels"] else {
      throw TensorFileError.malformed(path: url.path, reason: "expected arrays 'images' and 'labels'")
    }
    return ImageDataset(images: images.float().unsqueeze(1) / 16, labels: labels.long())
  }

  /// MNIST from its IDX files (images `idx3-ubyte`, labels `idx1-ubyte`), scaled to [0, 1].
  public static func mnist(images imagesPath: String, labels labelsPath: String) throws -> ImageDataset {
    let imageBytes = try Data(contentsOf: URL(fileURLWithPath: imagesPath))
    let labelBytes = try Data(contentsOf: URL(fileURLWithPath: labelsPath))
    func bigEndian(_ d: Data, _ offset: Int) -> Int {
      guard d.count >= offset + 4 else { return -1 }
      return d[d.startIndex + offset..<d.startIndex + offset + 4].reduce(0) { $0 << 8 | Int($1) }
    }
    guard bigEndian(imageBytes, 0) == 0x803, bigEndian(labelBytes, 0) == 0x801 else {
      throw TensorFileError.malformed(path: imagesPath, reason: "not an IDX image/label file pair (bad magic numbers)")
    }
    let (n, rows, cols) = (bigEndian(imageBytes, 4), bigEndian(imageBytes, 8), bigEndian(imageBytes, 12))
    guard n == bigEndian(labelBytes, 4), n >= 0, rows > 0, cols > 0, imageBytes.count >= 16 + n * rows * cols,
      labelBytes.count >= 8 + n
    else {
      throw TensorFileError.malformed(path: imagesPath, reason: "sizes in the IDX headers do not match the files")
    }
    let pixels = [UInt8](imageBytes[(imageBytes.startIndex + 16)..<(imageBytes.startIndex + 16 + n * rows * cols)])
    let labels = labelBytes[(labelBytes.startIndex + 8)..<(labelBytes.startIndex + 8 + n)].map { Int64($0) }
    return ImageDataset(
      images: Tensor(pixels, shape: [n, 1, rows, cols]).float() / 255, labels: Tensor(labels, shape: [n]))
  }
}

extension Tensor {
  /// The permutation that sorts a 1-d tensor ascending (used to shuffle by random keys).
  func argsortAscending() -> Tensor {
    let values = toArray(Int64.self)
    let order = values.indices.sorted { values[$0] < values[$1] }
    return Tensor(order.map { Int64($0) }, shape: [order.count])
  }
}

/// Finds a file relative to the working directory, else to the package.
public func locatePackageFile(_ path: String) throws -> URL {
  let candidates = [
    URL(fileURLWithPath: path),
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent(path),
  ]
  guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
    throw TensorFileError.io(path: path, reason: "file not found (run from the package folder, or pass its path)")
  }
  return found
}
