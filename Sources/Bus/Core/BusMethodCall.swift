import CSystemd
import Platform

/// An incoming method call, its arguments already checked against the method's declared input
/// signature. Reply exactly once, now or later; a second reply is ignored.
///
/// sd-bus is not thread-safe, so everything that touches the message happens on the bus
/// thread: when the connection runs on an `EventLoop`, a reply given (or a call released) on
/// another thread is posted to the loop. A call released without a reply is answered with
/// NoReply, so a client never waits for its timeout.
public final class BusMethodCall: @unchecked Sendable {
    public let interface: String
    public let member: String
    public let path: String
    public let sender: String?
    public let arguments: [BusValue]

    /// One reference to the call message, released (on the bus thread) in deinit.
    private let message: OpaquePointer
    private let outputSignature: String
    /// Weak: a reply posted to a loop that has stopped waits in its queue, and a strong
    /// reference from there back to the loop would keep both alive for good.
    private weak var loop: EventLoop?
    private let state = Condition()
    private var replied = false

    init(message: OpaquePointer, interface: String, member: String, path: String, sender: String?,
         arguments: [BusValue], outputSignature: String, loop: EventLoop?) {
        self.message = sd_bus_message_ref(message)
        self.interface = interface
        self.member = member
        self.path = path
        self.sender = sender
        self.arguments = arguments
        self.outputSignature = outputSignature
        self.loop = loop
    }

    deinit {
        let message = MessageReference(message)
        let unanswered = !replied
        let method = "\(interface).\(member)"
        Self.onBusThread(loop) {
            if unanswered {
                MethodReply.send(BusError(name: BusError.noReply, message: "the service dropped the call to \(method) without replying"),
                                 to: message.pointer)
            }
            sd_bus_message_unref(message.pointer)
        }
    }

    /// The sender's uid, groups and pid. Call it on the bus thread: it may ask the bus.
    public func credentials() throws(BusError) -> BusCredentials {
        try BusCredentials.ofSender(message)
    }

    /// Replies with `values`, which must match the method's declared outputs; a mismatch is
    /// sent to the caller as Failed, naming both signatures.
    public func reply(_ values: [BusValue] = []) {
        guard claimReply() else { return }
        let method = "\(interface).\(member)"
        Self.onBusThread(loop) { [self] in
            MethodReply.send(values, to: message, declared: outputSignature, method: method)
        }
    }

    public func fail(_ error: BusError) {
        guard claimReply() else { return }
        Self.onBusThread(loop) { [self] in
            MethodReply.send(error, to: message)
        }
    }

    private func claimReply() -> Bool {
        state.locked {
            if replied { return false }
            replied = true
            return true
        }
    }

    private static func onBusThread(_ loop: EventLoop?, _ work: @escaping @Sendable () -> Void) {
        if let loop, !loop.isCurrentThread {
            loop.post(work)
        } else {
            work()
        }
    }
}

/// A message pointer carried to the bus thread. Only that thread touches it, which is what
/// makes handing it over safe.
struct MessageReference: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }
}
