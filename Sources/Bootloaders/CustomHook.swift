import Platform
import Slots
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The administrator's executable behind the custom backend, and the one way Tandem runs it:
/// spawned without a shell, with a clean environment describing the slots, a deadline and a
/// bound on its output. The interface is documented in docs/slots.md ("custom").
public struct CustomHook: Sendable {
    public let path: String
    public let limits: Subprocess.Limits

    /// 30 s covers fw_setenv rewriting a redundant environment on slow NOR flash; the answers
    /// are one short line, so 4 KiB of stdout is far more than any honest hook prints.
    public static let defaultLimits = Subprocess.Limits(timeout: 30, stdoutBytes: 4096, stderrBytes: 4096)

    /// The exit status by which a hook says it does not implement an operation.
    public static let unsupportedStatus: Int32 = 2

    /// The version of the interface, passed as `TANDEM_HOOK_INTERFACE`.
    public static let interfaceVersion = 1

    public init(path: String, limits: Subprocess.Limits = CustomHook.defaultLimits) {
        self.path = path
        self.limits = limits
    }

    /// What the hook printed on success, or nil when it exited with `unsupportedStatus`.
    func run(_ operation: CustomHookOperation, for pair: SlotPair, esp: String?) throws(SlotError) -> [UInt8]? {
        let outcome: Subprocess.Outcome
        do {
            outcome = try Subprocess.run(path, arguments: operation.arguments,
                                         environment: environment(for: pair, esp: esp), limits: limits)
        } catch {
            throw failure(operation, "cannot be started: \(error)")
        }
        switch outcome.termination {
        case .exited(status: 0):
            return outcome.stdout
        case .exited(status: Self.unsupportedStatus):
            return nil
        case let .exited(status):
            throw failure(operation, "exited with status \(status)" + Self.excerpt(ofStderr: outcome))
        case let .signalled(signal):
            throw failure(operation, "was killed by signal \(signal)" + Self.excerpt(ofStderr: outcome))
        case .timedOut:
            throw failure(operation, "did not finish within \(Self.seconds(limits.timeout)) (or kept its output open); "
                + "it was killed" + Self.excerpt(ofStderr: outcome))
        case .outputExceeded:
            throw failure(operation, "printed more than \(limits.stdoutBytes) bytes; it was killed")
        case let .lost(errno):
            throw failure(operation, "its exit status was lost (\(errno)); is SIGCHLD ignored?")
        }
    }

    /// Runs an operation every hook must implement: exit status 2 is then a failure too.
    func runRequired(_ operation: CustomHookOperation, for pair: SlotPair, esp: String?) throws(SlotError) -> [UInt8] {
        guard let output = try run(operation, for: pair, esp: esp) else {
            throw failure(operation, "says it does not support \(operation.name) (exit status \(Self.unsupportedStatus)), "
                + "which every hook must")
        }
        return output
    }

    func failure(_ operation: CustomHookOperation, _ detail: String) -> SlotError {
        .bootBackend(.hookFailed(hook: path, operation: "\(operation)", detail: detail))
    }

    /// Only PATH is inherited (so that the hook finds fw_setenv and friends); the rest
    /// describes the slots. Nothing else of tandemd's environment reaches the hook.
    private func environment(for pair: SlotPair, esp: String?) -> [String] {
        var environment = [
            "PATH=\(getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")",
            "TANDEM_HOOK_INTERFACE=\(Self.interfaceVersion)",
            "TANDEM_DISK=\(pair.disk.path)",
        ]
        for slot in pair.slots {
            let prefix = "TANDEM_SLOT_\(slot.name.rawValue)_"
            environment.append("\(prefix)PARTITION=\(slot.partition.number)")
            environment.append("\(prefix)PARTUUID=\(slot.partition.uniqueGUID)")
        }
        if let esp { environment.append("TANDEM_ESP=\(esp)") }
        return environment
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    private static func excerpt(ofStderr outcome: Subprocess.Outcome) -> String {
        guard !outcome.stderr.isEmpty else { return "" }
        return ": " + HookText.quoted(outcome.stderr, limit: 400) + (outcome.stderrTruncated ? " (cut)" : "")
    }
}

/// One call of the hook: its arguments, and its name in messages.
enum CustomHookOperation: CustomStringConvertible {
    case getState(SlotName)
    case setState(SlotName, BootAttributes)
    case getBooted

    var name: String {
        switch self {
        case .getState: "get-state"
        case .setState: "set-state"
        case .getBooted: "get-booted"
        }
    }

    var arguments: [String] {
        switch self {
        case let .getState(slot): [name, slot.hookArgument]
        case let .setState(slot, state): [name, slot.hookArgument] + CustomHookState(state).fields
        case .getBooted: [name]
        }
    }

    var description: String { arguments.joined(separator: " ") }
}

extension SlotName {
    /// How the hook's arguments and answers name the slot: `a` or `b`.
    var hookArgument: String { rawValue.lowercased() }

    init?(hookArgument: String) {
        switch hookArgument {
        case "a": self = .a
        case "b": self = .b
        default: return nil
        }
    }
}
