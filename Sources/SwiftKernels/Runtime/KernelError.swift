/// What a kernel reports instead of touching memory it must not.
///
/// The bridge maps each case to a Python exception (TypeError, ValueError, IndexError,
/// MemoryError); the message names the parameter and what was wrong.
public enum KernelError: Error, Equatable {
    case type(String)
    case value(String)
    case index(String)
    case memory(String)
}
