import CSystemd

/// A signal received through a match rule.
public struct BusSignal: Sendable {
    public var sender: String?
    public var path: String
    public var interface: String
    public var member: String
    public var arguments: [BusValue]

    public init(sender: String?, path: String, interface: String, member: String, arguments: [BusValue]) {
        self.sender = sender
        self.path = path
        self.interface = interface
        self.member = member
        self.arguments = arguments
    }
}

/// A subscription made with `addMatch`. Releasing it (or `cancel()`) removes the match, so keep
/// it for as long as the signals are wanted.
public final class BusMatch {
    private var slot: OpaquePointer?

    init(slot: OpaquePointer) {
        self.slot = slot
    }

    deinit {
        cancel()
    }

    public func cancel() {
        guard let slot else { return }
        self.slot = nil
        sd_bus_slot_unref(slot)
    }
}

extension BusConnection {
    /// Subscribes to the signals `rule` matches (the bus's match rule syntax, e.g.
    /// "type='signal',interface='org.example.Thing'"); `handler` runs on the bus thread for
    /// each. A signal whose arguments cannot be read (unix fds) is skipped.
    ///
    /// Not `@discardableResult`: a discarded `BusMatch` cancels the subscription at once.
    public func addMatch(_ rule: String, handler: @escaping (BusSignal) -> Void) throws(BusError) -> BusMatch {
        typealias Handler = CallbackBox<(BusSignal) -> Void>
        let box = Unmanaged.passRetained(Handler(handler))
        var slot: OpaquePointer?
        let added = sd_bus_add_match(bus, &slot, rule, { message, userdata, _ in
            guard let message, let userdata, let signal = BusConnection.signal(from: message) else { return 0 }
            Unmanaged<Handler>.fromOpaque(userdata).takeUnretainedValue().callback(signal)
            // 0 lets every other match and object see the message too.
            return 0
        }, box.toOpaque())
        guard added >= 0, let slot else {
            box.release()
            throw .errno(added, "subscribing to \(rule)")
        }
        sd_bus_slot_set_destroy_callback(slot) { userdata in
            guard let userdata else { return }
            Unmanaged<Handler>.fromOpaque(userdata).release()
        }
        return BusMatch(slot: slot)
    }

    private static func signal(from message: OpaquePointer) -> BusSignal? {
        guard sd_bus_message_is_signal(message, nil, nil) > 0,
              let path = sd_bus_message_get_path(message),
              let interface = sd_bus_message_get_interface(message),
              let member = sd_bus_message_get_member(message),
              let arguments = try? BusValue.readAll(from: message)
        else { return nil }
        return BusSignal(sender: sd_bus_message_get_sender(message).map { String(cString: $0) },
                         path: String(cString: path), interface: String(cString: interface),
                         member: String(cString: member), arguments: arguments)
    }
}
