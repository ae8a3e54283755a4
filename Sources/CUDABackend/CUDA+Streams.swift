import Foundation
import Tensor

extension CUDA {
  /// A queue of work on one device (PyTorch: `torch.cuda.Stream`). Kernels, device copies and
  /// `nonBlocking` moves go to the current stream (`CUDA.withStream`), which is the device's
  /// default stream unless a region sets another; work on one stream runs in order, work on
  /// different streams may overlap. Without the `CUDA` trait or a GPU, making one throws.
  public final class Stream: @unchecked Sendable, Equatable, CustomStringConvertible {
    /// The device the stream belongs to.
    public let device: Int
    /// The runtime's handle; nil for the default stream.
    let handle: OpaquePointer?
    private let owned: Bool

    /// A new stream on `device` (PyTorch: `torch.cuda.Stream(device)`); throws the runtime's
    /// error without a usable device.
    public init(device: Int = 0) throws {
      self.device = device
      handle = try Runtime.createStream(device)
      owned = true
    }

    private init(defaultOf device: Int) {
      self.device = device
      handle = nil
      owned = false
    }

    deinit { if owned { Runtime.destroyStream(handle) } }

    /// The default stream of `device` (PyTorch: `torch.cuda.default_stream()`).
    public static func defaultStream(device: Int = 0) -> Stream { Stream(defaultOf: device) }

    /// The stream work on `device` goes to where the caller runs (PyTorch:
    /// `torch.cuda.current_stream()`).
    public static func current(device: Int = 0) -> Stream {
      if let set = Stream.override, set.device == device { return set }
      return defaultStream(device: device)
    }

    /// The stream a `withStream` region set for this thread or task.
    @TaskLocal static var override: Stream?

    /// Waits until all work queued on the stream has finished.
    public func synchronize() throws { try Runtime.synchronizeStream(self) }

    /// Whether all work queued on the stream has finished.
    public func query() throws -> Bool { try Runtime.queryStream(self) }

    /// Makes later work on this stream wait for `event` (PyTorch: `s.wait_event(e)`).
    public func wait(_ event: Event) throws { try Runtime.streamWait(self, for: event) }

    /// Makes later work on this stream wait for the work queued on `other` so far (PyTorch:
    /// `s.wait_stream(other)`).
    public func wait(_ other: Stream) throws { try wait(try other.recordEvent()) }

    /// Records a new event (or `event`) at the current end of this stream (PyTorch:
    /// `s.record_event()`).
    @discardableResult
    public func recordEvent(_ event: Event? = nil) throws -> Event {
      let recorded = try event ?? Event()
      try recorded.record(on: self)
      return recorded
    }

    /// Two streams are equal when they are the same queue of the same device.
    public static func == (a: Stream, b: Stream) -> Bool { a.device == b.device && a.handle == b.handle }

    /// `Stream(device: 0, default)` or the handle's address.
    public var description: String {
      "Stream(device: \(device), \(handle.map { "0x" + String(UInt(bitPattern: $0), radix: 16) } ?? "default"))"
    }
  }

  /// A marker in a stream's work (PyTorch: `torch.cuda.Event`): record it, then wait for it on
  /// the host or on another stream, or time the work between two events.
  public final class Event: @unchecked Sendable {
    /// The runtime's handle.
    let handle: OpaquePointer?
    /// Whether `elapsedTime` can be asked of it.
    public let enableTiming: Bool

    /// A new event (PyTorch: `torch.cuda.Event(enable_timing=...)`); throws without CUDA.
    public init(enableTiming: Bool = false) throws {
      self.enableTiming = enableTiming
      handle = try Runtime.createEvent(timing: enableTiming)
    }

    deinit { Runtime.destroyEvent(handle) }

    /// Records the event at the current end of `stream` (the current stream by default).
    public func record(on stream: Stream? = nil) throws {
      try Runtime.recordEvent(self, on: stream ?? Stream.current())
    }

    /// Waits on the host until the work before the recorded point has finished.
    public func synchronize() throws { try Runtime.synchronizeEvent(self) }

    /// Whether the work before the recorded point has finished.
    public func query() throws -> Bool { try Runtime.queryEvent(self) }

    /// Milliseconds from this event to `end` (both recorded and finished, both with timing)
    /// (PyTorch: `start.elapsed_time(end)`).
    public func elapsedTime(to end: Event) throws -> Double {
      guard enableTiming && end.enableTiming else {
        throw DeviceError.runtime(
          "elapsedTime: both events need enableTiming: true (make them with CUDA.Event(enableTiming: true))")
      }
      return try Runtime.elapsedTime(from: self, to: end)
    }
  }

  /// Runs `body` with `stream` as the current stream of its device on this thread or task
  /// (PyTorch: `with torch.cuda.stream(s):`).
  public static func withStream<R>(_ stream: Stream, _ body: () throws -> R) rethrows -> R {
    try Stream.$override.withValue(stream) { try body() }
  }
}

extension Tensor {
  /// Marks this CUDA tensor's memory as used by `stream`, so that freeing it does not let the
  /// allocator hand the block to other work before `stream`'s queued work is done (PyTorch:
  /// `x.record_stream(s)`).
  public func recordStream(_ stream: CUDA.Stream) {
    usageCheck(
      device == .cuda(stream.device),
      "recordStream: the tensor is on \(device) but the stream belongs to cuda:\(stream.device)")
    Runtime.recordStream(self, stream)
  }
}
