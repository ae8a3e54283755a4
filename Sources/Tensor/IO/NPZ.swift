import Foundation

extension Tensor {
  /// Reads every array of an `.npz` archive, written by `np.savez` (stored) or
  /// `np.savez_compressed` (deflated), keyed by name without `.npy` (NumPy: `np.load`).
  public static func load(npz url: URL) throws -> [String: Tensor] {
    try load(npz: readFile(url), path: url.path)
  }

  /// Reads the arrays of `.npz` bytes.
  public static func load(npz data: Data, path: String = "<memory>") throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for entry in try Zip.read(data, path: path) {
      let key = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
      result[key] = try Tensor(npy: entry.data, path: "\(path)[\(entry.name)]")
    }
    return result
  }

  /// Writes tensors as an `.npz` archive, deflated when `compressed`
  /// (NumPy: `np.savez` / `np.savez_compressed`). The file is replaced atomically.
  public static func save(npz url: URL, _ tensors: [String: Tensor], compressed: Bool = false) throws {
    let entries = try tensors.keys.sorted().map { key in
      Zip.Entry(name: key + ".npy", data: try NPY.encode(tensors[key]!, path: "\(url.path)[\(key)]"))
    }
    try writeAtomically(Zip.write(entries, compress: compressed), to: url)
  }

  /// The bytes of a file, or an `io` error that says why not.
  static func readFile(_ url: URL) throws -> Data {
    do {
      return try Data(contentsOf: url, options: .alwaysMapped)
    } catch {
      throw TensorFileError.io(path: url.path, reason: error.localizedDescription)
    }
  }
}
