/// The bookkeeping of a stream-aware caching allocator (PyTorch's `CUDACachingAllocator`
/// rules), apart from the memory and the events themselves, which the device allocator
/// supplies.
///
/// - A block belongs to the stream that was current when it was allocated. Freed, it is
///   reused only for allocations on that same stream: work queued on one stream runs in
///   order, so a later kernel there cannot overtake the earlier users of the block.
/// - A block that other streams used too (`markUsed(_:on:)`, PyTorch's `record_stream`) is
///   not reusable when freed: an event is recorded on each of those streams, and the block
///   returns to its stream's pool once every event has completed.
/// - `takeFree()` (for `emptyCache`) hands back only reusable blocks; blocks still waiting
///   for their events stay.
///
/// Streams are identified by an `Int` (the handle's bits; 0 for the default stream), events
/// by whatever the allocator records.
struct StreamBlockPool<Event> {
  /// What the pool knows of one block.
  struct Block {
    let size: Int
    let stream: Int
    var usedOn: Set<Int> = []
  }

  private var free: [Int: [Int: [UnsafeMutableRawPointer]]] = [:]
  private var blocks: [UnsafeMutableRawPointer: Block] = [:]
  private var pending: [(pointer: UnsafeMutableRawPointer, events: [Event])] = []

  /// A freed block of exactly `size` bytes for `stream`, or nil when none is free (call
  /// `collect` first to return blocks whose events completed).
  mutating func reuse(size: Int, stream: Int) -> UnsafeMutableRawPointer? {
    guard var sized = free[stream]?[size], let block = sized.popLast() else { return nil }
    free[stream]?[size] = sized
    return block
  }

  /// Registers a block newly obtained from the device for `stream`.
  mutating func added(_ pointer: UnsafeMutableRawPointer, size: Int, stream: Int) {
    blocks[pointer] = Block(size: size, stream: stream)
  }

  /// The size of a block the pool knows, or nil.
  func size(of pointer: UnsafeMutableRawPointer) -> Int? { blocks[pointer]?.size }

  /// Notes that `stream` uses the block too; false for a pointer the pool does not know (not
  /// the start of a block of this allocator).
  @discardableResult
  mutating func markUsed(_ pointer: UnsafeMutableRawPointer, on stream: Int) -> Bool {
    guard var block = blocks[pointer] else { return false }
    if stream != block.stream { block.usedOn.insert(stream) }
    blocks[pointer] = block
    return true
  }

  /// Returns a block to the pool: reusable at once when only its own stream used it, else
  /// after the events `record` returns for the other streams complete. Returns its size.
  @discardableResult
  mutating func released(_ pointer: UnsafeMutableRawPointer, record: (Set<Int>) -> [Event]) -> Int? {
    guard var block = blocks[pointer] else { return nil }
    if block.usedOn.isEmpty {
      free[block.stream, default: [:]][block.size, default: []].append(pointer)
    } else {
      pending.append((pointer, record(block.usedOn)))
      block.usedOn = []
      blocks[pointer] = block
    }
    return block.size
  }

  /// Removes and returns every reusable block (`emptyCache`).
  mutating func takeFree() -> [(pointer: UnsafeMutableRawPointer, size: Int)] {
    var taken: [(UnsafeMutableRawPointer, Int)] = []
    for (_, sizes) in free {
      for (size, pointers) in sizes {
        for pointer in pointers {
          taken.append((pointer, size))
          blocks[pointer] = nil
        }
      }
    }
    free = [:]
    return taken
  }

  /// Blocks waiting for events of other streams.
  var pendingCount: Int { pending.count }

  /// Returns the blocks whose events have all completed to their streams' pools; returns
  /// those events, for the allocator to destroy.
  mutating func collect(isComplete: (Event) -> Bool) -> [Event] {
    guard !pending.isEmpty else { return [] }
    var waiting: [(pointer: UnsafeMutableRawPointer, events: [Event])] = []
    var done: [Event] = []
    for entry in pending {
      if entry.events.allSatisfy(isComplete), let block = blocks[entry.pointer] {
        free[block.stream, default: [:]][block.size, default: []].append(entry.pointer)
        done += entry.events
      } else {
        waiting.append(entry)
      }
    }
    pending = waiting
    return done
  }
}
