import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// How a file's bytes become a tensor's memory (NumPy's `mmap_mode`).
public enum FileMapping: Sendable {
  /// Shared and read-only (`mmap_mode="r"`): in-place writes stop with a message.
  case readOnly
  /// Shared and writable (`mmap_mode="r+"`): writes reach the file, and other processes
  /// mapping it see them.
  case readWrite
  /// Private and writable (`mmap_mode="c"`): writes stay in this process.
  case copyOnWrite
}

/// A whole file mapped into memory.
struct MappedFile {
  let base: UnsafeMutableRawPointer
  let size: Int
  let mapping: FileMapping

  init(_ url: URL, mapping: FileMapping) throws {
    let path = url.path
    let fd = open(path, mapping == .readWrite ? O_RDWR : O_RDONLY)
    guard fd >= 0 else { throw TensorFileError.io(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw TensorFileError.io(path: path, reason: String(cString: strerror(errno))) }
    size = Int(info.st_size)
    guard size > 0 else { throw TensorFileError.malformed(path: path, reason: "the file is empty") }
    let protection = mapping == .readOnly ? PROT_READ : PROT_READ | PROT_WRITE
    let flags = mapping == .copyOnWrite ? MAP_PRIVATE : MAP_SHARED
    guard let pointer = mmap(nil, size, protection, flags, fd, 0), pointer != MAP_FAILED else {
      throw TensorFileError.io(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    base = pointer
    self.mapping = mapping
  }

  var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

  /// A storage that owns the mapping (unmapped when the last tensor over it goes away).
  func makeStorage() -> Storage {
    let storage = Storage(wrapping: base, byteCount: size, device: .cpu) { pointer, count in
      munmap(pointer, count)
    }
    storage.isReadOnly = mapping == .readOnly
    storage.isFileMapping = mapping == .readWrite
    return storage
  }

  func unmap() { munmap(base, size) }
}

extension Tensor {
  /// Opens a `.npy` file as the tensor's memory, without reading it (NumPy:
  /// `np.load(path, mmap_mode=...)`). With `.readWrite`, in-place ops write the file and a
  /// NumPy process mapping it sees them (after `flush()` for durability).
  public convenience init(npy url: URL, mapping: FileMapping) throws {
    let file = try MappedFile(url, mapping: mapping)
    let header: NPY.Header
    do {
      header = try NPY.parseHeader(file.bytes, path: url.path)
    } catch {
      file.unmap()
      throw error
    }
    guard !(header.bigEndian && header.dtype.itemSize > 1), header.dataOffset % header.dtype.itemSize == 0 else {
      file.unmap()
      throw TensorFileError.malformed(
        path: url.path,
        reason: "cannot map this file: its data is big-endian or misaligned; load it with Tensor(npy:) to convert it")
    }
    let storage = file.makeStorage()
    let offset = header.dataOffset / header.dtype.itemSize
    var layout = Layout(contiguous: header.fortranOrder ? header.shape.reversed() : header.shape, offset: offset)
    if header.fortranOrder {
      layout = Layout(shape: layout.shape.reversed(), strides: layout.strides.reversed(), offset: offset)
    }
    self.init(storage: storage, layout: layout, dtype: header.dtype)
  }

  /// Writes a file-backed tensor's memory back to the file (`msync`); does nothing for
  /// other tensors (NumPy: `memmap.flush()`).
  public func flush() throws {
    guard storage.isFileMapping else { return }
    guard msync(storage.data, storage.byteCount, MS_SYNC) == 0 else {
      throw TensorFileError.io(path: "<mapped file>", reason: "msync failed: \(String(cString: strerror(errno)))")
    }
  }
}
