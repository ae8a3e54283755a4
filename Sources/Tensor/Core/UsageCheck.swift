// Usage checks that keep their message in every build configuration.
//
// `precondition` drops its message under `-O` (a release build prints only "precondition
// failure" or dies with SIGILL), and the library's promise is PyTorch's messages. Every
// check of a caller's input in every module goes through these two functions, which end in
// `fatalError`: its message survives `-O` (only `-Ounchecked` drops it).

/// Stops the program with `message` (the op, the shapes, dtypes or devices involved, and
/// what to do instead), in debug and release builds alike (PyTorch raises `RuntimeError`).
@inline(never) @usableFromInline
package func usageFailure(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
  fatalError(message, file: file, line: line)
}

/// Checks a condition on the caller's input and stops with `message` when it does not hold,
/// in debug and release builds alike. The message is only built on failure.
@inlinable @inline(__always)
package func usageCheck(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
  file: StaticString = #fileID, line: UInt = #line
) {
  if _slowPath(!condition()) { usageFailure(describedBy: message, file: file, line: line) }
}

/// `usageFailure` with the message still to be built: the caller passes the closure, so the
/// code that builds the message stays out of the checking function (which keeps small ops
/// small enough for the inliner).
@inline(never) @usableFromInline
package func usageFailure(describedBy message: () -> String, file: StaticString, line: UInt) -> Never {
  fatalError(message(), file: file, line: line)
}
